"""Green / yellow / red classification (放心户 / 关心户 / 连心户) from a household's facts.

One code path for one household and for a million:

1. ``fetch_facts`` reads the facts of a *set* of households in five set-based queries (household
   columns; active members counted; flagged members — left behind, disabled, released; the last
   two income observations; recent major-expense events);
2. ``evaluate`` is a pure function of (facts, rules, settings, village averages, today) → class,
   reasons in Chinese, and the inputs it used;
3. ``write_classes`` upserts the results for the whole set and inserts a history row for every
   household whose class or reasons changed — on PostgreSQL in one statement (arrays unnested
   server-side, data-modifying CTEs), elsewhere in three ORM statements.

``classify_where`` runs the three steps over id-range batches of a household queryset; recomputing
one household is the same with ``pk=…``, so it touches that household's rows only. Reading is plain
ORM and writing has an ORM fallback, so it runs on PostgreSQL (production, tests) and on the
demo's SQLite alike.

Choices (documented here because the seed leaves them open)
* "Village average income" is per capita: total known income of the village's households divided
  by their active members (households with no income recorded are left out). A rule may use
  ``"basis": "household"`` instead (average household income).
* "N years running" / "in the last N years" count completed years: for 2026 the last three years
  are 2023, 2024, 2025.
* Precedence: red outranks yellow outranks green; a household matching no rule — or whose
  decisive facts are missing — is **undecided**, with the facts that left it undecided as reasons.
* Names in reasons are written as surname + 某 ("张某"), as the seed does, so reason lists can be
  shown and exported without exposing full names; the timeline shows who is meant.
* The village average moves when one household's income changes; recomputing one household
  compares it with the current average but does not recompute its neighbours — the nightly
  ``gongzhi classify_households`` run does.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, Sum

from .models import COLOUR_PRECEDENCE, COLOUR_ZH, CareSettings, ClassRule

POVERTY_ZH = {"none": "未登记", "lifted": "脱贫户", "monitored": "监测户", "low_income": "低保户", "extreme": "特困户"}
LEFT_BEHIND_ZH = {"elderly": "留守老人", "child": "留守儿童", "woman": "留守妇女"}
GRADE_ZH = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}
WATCH_EVENT_ZH = {"illness": "重病", "disaster": "自然灾害", "accident": "意外事故", "other": "重大支出"}


def masked_name(name: str) -> str:
    return f"{name[:1]}某" if name else "某"


def money(value) -> str:
    return f"{float(value):,.0f}元"


def age_on(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


# ---------------------------------------------------------------------------------------------
# inputs


@dataclass(frozen=True)
class Rule:
    colour: str
    group: int
    kind: str
    params: dict


@dataclass
class Settings:
    watch_income_line: Decimal = Decimal("7100")
    watch_drop_share: Decimal = Decimal("0.30")
    watch_event_months: int = 12


@dataclass
class Facts:
    id: int
    county_id: int | None
    village_id: int | None
    income: Decimal | None
    poverty_status: str
    peaceful_years: list
    members: int = 0
    flagged: list = field(default_factory=list)  # [{"n": name, "b": birth, "lb": kind, "d": grade, "r": released}]
    incomes: list = field(default_factory=list)  # last two observations, newest first: [(income, members, on)]
    events: list = field(default_factory=list)  # [(kind, occurred_on, amount)]


def load_rules(county_id: int | None) -> list[Rule]:
    rows = ClassRule.objects.filter(county_id=county_id) if county_id else ClassRule.objects.none()
    if county_id is None or not rows.exists():
        rows = ClassRule.objects.filter(county__isnull=True)
    return [Rule(r.colour, r.group, r.kind, r.params or {}) for r in rows.filter(enabled=True).order_by("id")]


def load_settings(county_id: int | None) -> Settings:
    row = CareSettings.objects.filter(county_id=county_id).first() if county_id else None
    if row is None:
        return Settings()
    return Settings(row.watch_income_line, row.watch_drop_share, row.watch_event_months)


def _has_members():
    from gongzhi.registry.models import Person

    return Exists(Person.objects.filter(household=OuterRef("pk"), status="active"))


def village_averages(*, village_ids: list[int] | None = None) -> dict[int, tuple[Decimal | None, Decimal | None]]:
    """{village_id: (average per-capita income, average household income)} in two grouped queries.

    Only households with a recorded income and at least one active member count.
    """
    from gongzhi.registry.models import Household, Person

    households = Household.objects.filter(annual_income__isnull=False).filter(_has_members())
    persons = Person.objects.filter(status="active", household__annual_income__isnull=False)
    if village_ids is not None:
        households = households.filter(village_id__in=village_ids)
        persons = persons.filter(household__village_id__in=village_ids)
    money_rows = households.values("village_id").annotate(total=Sum("annual_income"), n=Count("pk")).order_by()
    heads = dict(persons.values("household__village_id").annotate(n=Count("pk")).order_by()
                 .values_list("household__village_id", "n"))
    out = {}
    for row in money_rows:
        people = heads.get(row["village_id"])
        total = Decimal(row["total"])
        out[row["village_id"]] = (total / people if people else None, total / row["n"] if row["n"] else None)
    return out


def fetch_facts(households, *, events_since: dt.date, bounds: tuple[int, int] | None = None) -> list[Facts]:
    """The facts of a set of households (a ``Household`` queryset): five set-based queries.
    ``bounds`` (low, high) — the batch's id range — lets the member queries use an index range scan."""
    from gongzhi.registry.models import Person

    from .models import IncomeObservation, WatchEvent

    near = {"household_id__gte": bounds[0], "household_id__lt": bounds[1]} if bounds else {}

    facts = {hid: Facts(id=hid, county_id=county, village_id=village, income=income, poverty_status=poverty,
                        peaceful_years=peaceful or [])
             for hid, county, village, income, poverty, peaceful in households.order_by("pk").values_list(
                 "pk", "county_id", "village_id", "annual_income", "poverty_status", "peaceful_family_years")}
    if not facts:
        return []
    ids = households.values("pk")
    active = Person.objects.filter(household_id__in=ids, status="active", **near)
    for hid, n in active.values("household_id").annotate(n=Count("pk")).order_by().values_list("household_id", "n"):
        facts[hid].members = n
    flagged = active.filter(Q(left_behind__gt="") | Q(disability_grade__isnull=False) | Q(released_on__isnull=False))
    for hid, name, birth, left, grade, released in flagged.order_by("pk").values_list(
            "household_id", "name", "birth_date", "left_behind", "disability_grade", "released_on"):
        facts[hid].flagged.append({"n": name, "b": birth, "lb": left, "d": grade, "r": released})
    for hid, income, members, on in (IncomeObservation.objects.filter(household_id__in=ids, **near)
                                     .order_by("household_id", "-observed_on", "-id")
                                     .values_list("household_id", "annual_income", "members", "observed_on")):
        if len(facts[hid].incomes) < 2:
            facts[hid].incomes.append((income, members, on))
    for hid, kind, on, amount in (WatchEvent.objects.filter(household_id__in=ids, occurred_on__gte=events_since, **near)
                                  .order_by("occurred_on", "id").values_list("household_id", "kind", "occurred_on", "amount")):
        facts[hid].events.append((kind, on, amount))
    return list(facts.values())


# ---------------------------------------------------------------------------------------------
# evaluation: each condition kind → (value, [texts]); value is True, False or None (facts missing)


def watch_reasons(f: Facts, s: Settings, today: dt.date) -> list[str]:
    """防返贫监测: the reasons this household is on the return-to-poverty watch list (may be [])."""
    reasons = []
    if f.income is not None and f.members:
        per_capita = float(f.income) / f.members
        if per_capita < float(s.watch_income_line):
            reasons.append(f"防返贫监测：人均收入{money(per_capita)}，低于监测线{money(s.watch_income_line)}")
    if len(f.incomes) == 2:
        new, old = float(f.incomes[0][0]), float(f.incomes[1][0])
        if old > 0 and (old - new) / old > float(s.watch_drop_share):
            share = (old - new) / old * 100
            reasons.append(f"防返贫监测：收入下降{share:.0f}%（{money(old)}→{money(new)}）")
    for kind, occurred, amount in f.events:
        spent = f"，支出{money(amount)}" if amount is not None else ""
        reasons.append(f"防返贫监测：{WATCH_EVENT_ZH.get(kind, kind)}（{occurred}{spent}）")
    return reasons


def _birth(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _cond(rule: Rule, f: Facts, s: Settings, avg: tuple, today: dt.date, watch: list[str]):
    """(value, texts): value is True, False or None (facts missing); texts is a zero-argument
    function giving the reasons, so the Chinese is only written for the groups that decide."""
    p, kind = rule.params, rule.kind
    if kind == "left_behind":
        kinds = p.get("kinds") or LEFT_BEHIND_ZH
        hits = [m for m in f.flagged if m["lb"] and m["lb"] in kinds]
        return bool(hits), lambda: [f"{LEFT_BEHIND_ZH.get(m['lb'], m['lb'])} {masked_name(m['n'])}"
                                    f"（{age_on(_birth(m['b']), today)}岁）" for m in hits]
    if kind == "poverty_status":
        hit = f.poverty_status in (p.get("statuses") or ())
        return hit, lambda: [POVERTY_ZH.get(f.poverty_status, f.poverty_status)] if hit else []
    if kind == "disabled_member":
        max_grade = int(p.get("max_grade", 4))
        hits = [m for m in f.flagged if m["d"] is not None and int(m["d"]) <= max_grade]
        return bool(hits), lambda: [f"残疾人 {masked_name(m['n'])}（{GRADE_ZH.get(m['d'], m['d'])}）" for m in hits]
    if kind == "released_member":
        since = today.year - int(p.get("within_years", 5))
        hits = [m for m in f.flagged if m["r"] and _birth(m["r"]).year >= since]
        return bool(hits), lambda: [f"刑满释放人员 {masked_name(m['n'])}（{_birth(m['r']).year}年释放）" for m in hits]
    if kind == "on_watch_list":
        return bool(watch), lambda: list(watch)
    if kind == "income_vs_average":
        per_capita = p.get("basis", "per_capita") == "per_capita"
        average = avg[0] if per_capita else avg[1]
        if f.income is None:
            return None, lambda: ["缺少家庭收入数据"]
        if per_capita and not f.members:
            return None, lambda: ["没有在册成员，无法计算人均收入"]
        if average is None:
            return None, lambda: ["本村收入数据不足，无法计算平均水平"]
        own = f.income / f.members if per_capita else f.income
        label = ("人均收入", "村人均") if per_capita else ("家庭年收入", "村户均")
        if own == average:
            return False, lambda: [f"{label[0]}{money(own)}，与{label[1]}{money(average)}持平"]
        above = own > average
        return ((above if p.get("relation", "above") == "above" else not above),
                lambda: [f"{label[0]}{money(own)}，{'高于' if above else '低于'}{label[1]}{money(average)}"])
    if kind == "peaceful_running":
        n = int(p.get("years", 3))
        years = f.peaceful_years
        if all(y in years for y in range(today.year - n, today.year)):
            return True, lambda: [f"连续{n}年评为平安家庭（{today.year - n}—{today.year - 1}年）"]
        return False, lambda: [f"近{n}年未连续评为平安家庭"]
    if kind == "not_peaceful_recent":
        n = int(p.get("years", 2))
        recent = [y for y in range(today.year - n, today.year) if y in f.peaceful_years]
        if not recent:
            return True, lambda: [f"近{n}年未评为平安家庭"]
        return False, lambda: [f"近{n}年曾评为平安家庭（{'、'.join(map(str, recent))}年）"]
    return None, lambda: [f"未知的规则条件：{kind}"]


@dataclass
class Result:
    colour: str
    reasons: list[str]
    inputs: dict


_compiled: dict[int, tuple] = {}


def _compile(rules: list[Rule]) -> list[tuple[str, list[list[Rule]]]]:
    """[(colour, [group, …]), …] in precedence order; cached for the life of the rules list."""
    key = id(rules)
    cached = _compiled.get(key)
    if cached is not None and cached[0] is rules:
        return cached[1]
    groups: dict[tuple[str, int], list[Rule]] = {}
    for rule in rules:
        groups.setdefault((rule.colour, rule.group), []).append(rule)
    out = [(colour, [g for (c, _n), g in sorted(groups.items()) if c == colour]) for colour in COLOUR_PRECEDENCE]
    _compiled.clear()
    _compiled[key] = (rules, out)
    return out


def evaluate(f: Facts, rules: list[Rule], s: Settings, avg: tuple, today: dt.date) -> Result:
    """Red outranks yellow outranks green; the reasons are those of every group that decided."""
    if f.income is not None and not isinstance(f.income, float):
        f.income = float(f.income)
    if not isinstance(f.peaceful_years, (set, frozenset)):
        f.peaceful_years = frozenset(int(y) for y in f.peaceful_years)
    avg = tuple(None if a is None else float(a) for a in avg)
    watch = watch_reasons(f, s, today)
    open_groups: list[list] = []
    for colour, groups in _compile(rules):
        decided = []
        for group in groups:
            results = []
            for rule in group:
                value, texts = _cond(rule, f, s, avg, today, watch)
                results.append((value, texts))
                if value is not True and colour == "red":
                    break
            if all(value is True for value, _t in results):
                decided.append(results)
            elif colour != "red":
                open_groups.append(results)
        if decided:
            reasons = [t for results in decided for _v, texts in results for t in texts()]
            return Result(colour, list(dict.fromkeys(reasons)), _inputs(f, avg, watch, today))
    texts = [t for results in open_groups for _v, fn in results for t in fn()]
    return Result("undecided", ["规则未能判定，请核实"] + list(dict.fromkeys(texts)), _inputs(f, avg, watch, today))


def _inputs(f: Facts, avg: tuple, watch: list[str], today: dt.date) -> dict:
    def num(v):
        return None if v is None else round(float(v), 2)

    return {"on": today.isoformat(), "income": num(f.income), "members": f.members, "poverty": f.poverty_status,
            "peaceful": sorted(int(y) for y in f.peaceful_years), "avg_pc": num(avg[0]), "avg_hh": num(avg[1]),
            "flagged": len(f.flagged), "watch": len(watch)}


def summary(colour: str, reasons: list[str]) -> str:
    return f"{COLOUR_ZH[colour]}：{'；'.join(reasons)}"


# ---------------------------------------------------------------------------------------------
# writing


PG_WRITE = """
    WITH new AS (
        SELECT * FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[]) AS t(household_id, colour, reasons, inputs)
    ), src AS (
        SELECT n.household_id, n.colour, n.reasons::jsonb AS reasons, n.inputs::jsonb AS inputs,
               h.county_id, h.town_id, h.village_id, h.grid_id
        FROM new n JOIN registry_household h ON h.id = n.household_id
    ), hist AS (
        INSERT INTO care_householdclasschange (household_id, colour_from, colour_to, reasons, source, actor_id, at,
                                               county_id, town_id, village_id)
        SELECT s.household_id, coalesce(c.colour, ''), s.colour, s.reasons, 'rules', %s, %s,
               s.county_id, s.town_id, s.village_id
        FROM src s LEFT JOIN care_householdclass c ON c.household_id = s.household_id
        WHERE c.household_id IS NULL OR c.colour <> s.colour OR c.reasons <> s.reasons
        RETURNING household_id
    ), up AS (
        INSERT INTO care_householdclass (household_id, grid_id, colour, reasons, inputs, computed_at,
                                         override_colour, override_reason, county_id, town_id, village_id)
        SELECT household_id, grid_id, colour, reasons, inputs, %s, '', '', county_id, town_id, village_id FROM src
        ON CONFLICT (household_id) DO UPDATE SET
            grid_id = EXCLUDED.grid_id, colour = EXCLUDED.colour, reasons = EXCLUDED.reasons,
            inputs = EXCLUDED.inputs, computed_at = EXCLUDED.computed_at, county_id = EXCLUDED.county_id,
            town_id = EXCLUDED.town_id, village_id = EXCLUDED.village_id
        RETURNING household_id
    )
    SELECT (SELECT count(*) FROM up), coalesce((SELECT array_agg(household_id) FROM hist), '{}')
"""


def write_classes(results: dict[int, Result], *, actor_id: int | None, now: dt.datetime) -> tuple[int, int, list[int]]:
    """Upsert {household_id: Result}; one history row per household whose class or reasons
    changed. Returns (written, changed, changed ids).

    PostgreSQL: one statement — the results travel as four arrays, are unnested server-side, and
    the history insert and the upsert are data-modifying CTEs over the same snapshot. Other
    databases (the demo's SQLite): the same in three ORM statements.
    """
    if not results:
        return 0, 0, []
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    if connection.vendor == "postgresql":
        ids = list(results)
        with connection.cursor() as cursor:
            cursor.execute(PG_WRITE, [ids, [results[i].colour for i in ids], [dumps(results[i].reasons) for i in ids],
                                      [dumps(results[i].inputs) for i in ids], actor_id, now, now])
            written, changed_ids = cursor.fetchone()
        return written, len(changed_ids), list(changed_ids)
    return _write_orm(results, actor_id=actor_id, now=now)


def _write_orm(results, *, actor_id, now):
    from gongzhi.registry.models import Household

    from .models import HouseholdClass, HouseholdClassChange

    ids = list(results)
    old = {pk: (colour, reasons) for pk, colour, reasons in
           HouseholdClass.objects.filter(pk__in=ids).values_list("pk", "colour", "reasons")}
    where = {pk: (c, t, v, g) for pk, c, t, v, g in Household.objects.filter(pk__in=ids).values_list(
        "pk", "county_id", "town_id", "village_id", "grid_id")}
    rows, history = [], []
    for pk in ids:
        r = results[pk]
        county, town, village, grid = where[pk]
        rows.append(HouseholdClass(household_id=pk, grid_id=grid, colour=r.colour, reasons=r.reasons, inputs=r.inputs,
                                   computed_at=now, county_id=county, town_id=town, village_id=village))
        before = old.get(pk)
        if before is None or before[0] != r.colour or before[1] != r.reasons:
            history.append(HouseholdClassChange(household_id=pk, colour_from=before[0] if before else "",
                                                colour_to=r.colour, reasons=r.reasons, source="rules",
                                                actor_id=actor_id, at=now, county_id=county, town_id=town,
                                                village_id=village))
    HouseholdClass.objects.bulk_create(
        rows, batch_size=500, update_conflicts=True, unique_fields=["household"],
        update_fields=["grid", "colour", "reasons", "inputs", "computed_at", "county", "town", "village"])
    HouseholdClassChange.objects.bulk_create(history, batch_size=500)
    return len(rows), len(history), [h.household_id for h in history]


@dataclass
class RunStats:
    households: int = 0
    changed: int = 0
    by_colour: dict = field(default_factory=dict)
    changed_ids: list = field(default_factory=list)


def classify_where(households, *, actor_id: int | None = None, today: dt.date | None = None,
                   now: dt.datetime | None = None, batch_size: int = 20000, keep_changed_ids: bool = False,
                   averages: dict | None = None) -> RunStats:
    """Classify every household of the ``households`` queryset, in id-range batches."""
    from django.utils import timezone

    now = now or timezone.now()
    today = today or timezone.localdate(now)
    households = households.order_by()
    bounds = households.aggregate(low=Min("pk"), high=Max("pk"))
    stats = RunStats()
    if bounds["low"] is None:
        return stats
    counties = list(households.values_list("county_id", flat=True).distinct())
    if averages is None:
        averages = village_averages(village_ids=list(households.values_list("village_id", flat=True).distinct()))
    rules_by_county = {c: load_rules(c) for c in counties}
    settings_by_county = {c: load_settings(c) for c in counties}
    longest = max(s.watch_event_months for s in settings_by_county.values())
    events_since = today - dt.timedelta(days=31 * longest)
    start = bounds["low"]
    while start <= bounds["high"]:
        batch = fetch_facts(households.filter(pk__gte=start, pk__lt=start + batch_size), events_since=events_since,
                            bounds=(start, start + batch_size))
        start += batch_size
        results = {}
        for f in batch:
            s = settings_by_county[f.county_id]
            if f.events and s.watch_event_months != longest:
                cutoff = today - dt.timedelta(days=31 * s.watch_event_months)
                f.events = [e for e in f.events if e[1] >= cutoff]
            result = evaluate(f, rules_by_county[f.county_id], s, averages.get(f.village_id, (None, None)), today)
            results[f.id] = result
            stats.by_colour[result.colour] = stats.by_colour.get(result.colour, 0) + 1
        written, changed, changed_ids = write_classes(results, actor_id=actor_id, now=now)
        stats.households += written
        stats.changed += changed
        if keep_changed_ids:
            stats.changed_ids.extend(changed_ids)
    return stats
