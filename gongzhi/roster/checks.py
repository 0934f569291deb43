"""The check of a roster file: every rule of the dry run, and the plan of what to write.

Reads only: the file (through ``parsing``) and the database (through ``selectors``, one query per
kind of look-up, never one per row). ``check`` returns the ``Report`` and two plans — for
importing everything and for importing only the valid rows — that ``services`` writes.

The rules are described in ``services``'s docstring; the valid-only rule is ``_fixpoint``.
"""
from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils import timezone

from gongzhi.core.masking import mask_id_number
from gongzhi.registry.models import Grid, Household, Person, PersonStatus, PovertyStatus, Region, RegionLevel, Relation
from gongzhi.registry.services import (
    _validate_grid_placement, name_initials, parse_income, person_facts_from_id, validate_household_grid,
)

from . import parsing, selectors
from .models import RosterKind
from .parsing import CellError, RosterFileError, label
from .report import Plan, Report, RowError


# Model fields → the column the user knows them by (for the "what changes" list).
FIELD_LABELS = {
    "address": "家庭住址", "grid": "所属网格", "region": "所属村组", "annual_income": "家庭年收入",
    "poverty_status": "脱贫户属性", "peaceful_family_years": "平安家庭年份", "name": "姓名",
    "relation": "与户主关系", "phone": "联系电话", "left_behind": "留守情况", "disability_grade": "残疾等级",
    "released_on": "刑满释放日期", "status": "状态（恢复为在户）",
}
GRID_FIELD_LABELS = {"code": "网格编码", "name": "网格名称", "level": "网格层级", "region": "所属村组",
                     "head": "网格长", "worker": "网格员"}


def _messages(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def _fields_clean(obj, exclude: list[str], labels: dict[str, str] = FIELD_LABELS) -> list[str]:
    """Field-level validation (choices, lengths, validators) without per-row queries."""
    try:
        obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        return [f"{labels.get(name, name)}：{'；'.join(str(m) for m in msgs)}"
                for name, msgs in exc.message_dict.items()]
    return []


def territory(village: Region) -> dict:
    return {"county_id": village.county_id, "town_id": village.town_id, "village_id": village.village_id}


class _RegionRefs:
    """Resolves 所属村组: the village itself or one of its villager groups, by code or name.

    Villages write a group many ways — 1组, 一组, 01组, 第一村民小组, 新坪村一组 — so besides the exact
    code and name a group is also found by its number (``parsing.villager_group_number``, read
    from the registered group's own name the same way). Two registered groups with the same
    number make that number ambiguous; their codes still work.
    """

    def __init__(self, village: Region):
        self.village = village
        self.by_key: dict[str, Region | None] = {village.code: village, village.name: village}
        self.by_number: dict[int, Region | None] = {}
        for group in selectors.village_groups(village=village):
            self.by_key[group.code] = group
            # A name shared by two groups is ambiguous (None); codes never are.
            self.by_key[group.name] = None if group.name in self.by_key else group
            number = parsing.villager_group_number(group.name, village.name)
            if number is not None:
                self.by_number[number] = None if number in self.by_number else group

    def resolve(self, text: str) -> Region:
        if text in self.by_key:
            region = self.by_key[text]
        else:
            number = parsing.villager_group_number(text, self.village.name)
            if number is None or number not in self.by_number:
                raise CellError(f"所属村组“{text}”不是{self.village.name}或其下的村民小组")
            region = self.by_number[number]
        if region is None:
            raise CellError(f"所属村组“{text}”有重名，请填写村民小组的区划代码")
        return region


# =============================================================================================
# households and persons: reading rows


@dataclass
class _Line:
    """One row of a household roster, its cells cleaned."""

    row: int
    code: str
    name: str = ""
    id_number: str = ""
    facts: dict | None = None
    person: dict = field(default_factory=dict)  # person columns present in the file
    household: dict = field(default_factory=dict)  # household columns with a value on this row
    errors: list[str] = field(default_factory=list)
    relation_ok: bool = True
    group_text: str = ""  # the 所属村组 cell as written (even when it did not resolve)


def _parse(errors: list[str], parser, value):
    try:
        return parser(value), True
    except CellError as exc:
        errors.append(str(exc))
    except ValidationError as exc:
        errors.extend(_messages(exc))
    return None, False


def _income(value):
    try:
        return parse_income(parsing.parse_income_cell(value))
    except ValidationError as exc:
        raise CellError(f"家庭年收入“{parsing.clean_text(value)}”不正确：{'；'.join(_messages(exc))}") from None


def _id_facts(value) -> dict:
    return person_facts_from_id(parsing.parse_id_cell(value))


def _household_lines(table: parsing.Table, village: Region, refs: _RegionRefs) -> list[_Line]:
    present = set(table.columns)
    today = timezone.localdate()
    lines = []
    for row in table.rows:
        cells = row.values
        line = _Line(row=row.number, code=parsing.clean_code(cells.get("household_code")))
        errors = line.errors
        if not line.code:
            errors.append("户号不能为空")
        elif len(line.code) > 32:
            errors.append("户号过长（最多32个字符）")
        line.name = parsing.clean_name(cells.get("name"))
        if not line.name:
            errors.append("姓名不能为空")
        elif len(line.name) > 50:
            errors.append("姓名过长（最多50个字）")
        line.person["name"] = line.name

        facts, ok = _parse(errors, _id_facts, cells.get("id_number"))
        if ok:
            line.id_number, line.facts = facts["id_number"], facts
        relation, line.relation_ok = _parse(errors, parsing.parse_relation, cells.get("relation"))
        if line.relation_ok:
            line.person["relation"] = relation
        optional = {
            "phone": parsing.parse_phone,
            "left_behind": parsing.parse_left_behind,
            "disability_grade": parsing.parse_disability,
            "released_on": lambda v: parsing.parse_date(v, "刑满释放日期"),
        }
        for key, parser in optional.items():
            if key in present:
                value, ok = _parse(errors, parser, cells.get(key))
                if ok:
                    line.person[key] = value
        released = line.person.get("released_on")
        if released and released > today:
            errors.append("刑满释放日期不能晚于今天")

        def household_value(key, parser):
            raw = cells.get(key)
            if key in present and parsing.clean_code(raw):
                value, ok = _parse(errors, parser, raw)
                if ok:
                    line.household[key] = value

        household_value("address", parsing.clean_text)
        if len(line.household.get("address", "")) > 200:
            errors.append("家庭住址过长（最多200个字）")
        household_value("grid", parsing.clean_code)  # resolved against the database later
        household_value("group", lambda v: refs.resolve(parsing.clean_code(v)))
        line.group_text = parsing.clean_code(cells.get("group"))
        household_value("annual_income", _income)
        household_value("poverty_status", parsing.parse_poverty)
        household_value("peaceful_years", parsing.parse_years)
        village_code = parsing.clean_code(cells.get("village_code"))
        if village_code and village_code != village.code:
            errors.append(f"本行属于其他村（社区）（代码{village_code}），不能导入到{village.name}")
        lines.append(line)
    return lines


@dataclass
class _HouseholdContext:
    village: Region
    present: set[str]
    grids_by_code: dict[str, Grid]
    grids_by_name: dict[str, list[Grid]]
    persons: dict[str, Person]
    households: dict[str, Household]
    members: dict[int, list[Person]]
    grid_problems: dict[int, list[str]] = field(default_factory=dict)

    def grid_problem(self, grid: Grid) -> list[str]:
        """``registry.services.validate_household_grid``, asked once per grid."""
        if grid.pk not in self.grid_problems:
            try:
                validate_household_grid(region=self.village, grid=grid)
                self.grid_problems[grid.pk] = []
            except ValidationError as exc:
                self.grid_problems[grid.pk] = _messages(exc)
        return self.grid_problems[grid.pk]


def _household_context(lines: list[_Line], village: Region, present: set[str]) -> _HouseholdContext:
    grid_refs = {line.household.get("grid") for line in lines}
    grids = selectors.lookup_grids(village=village, codes=grid_refs)
    by_name: dict[str, list[Grid]] = defaultdict(list)
    for grid in grids:
        if grid.village_id == village.pk:
            by_name[grid.name].append(grid)
    persons = selectors.lookup_persons(id_numbers=[line.id_number for line in lines])
    households = selectors.lookup_households(codes=[line.code for line in lines])
    household_ids = [h.pk for h in households.values()]
    household_ids += [p.household_id for p in persons.values()]
    return _HouseholdContext(
        village=village, present=present, grids_by_code={g.code: g for g in grids}, grids_by_name=by_name,
        persons=persons, households=households,
        members=selectors.lookup_active_members(household_ids=household_ids),
    )


def _resolve_grids(lines: list[_Line], ctx: _HouseholdContext) -> None:
    for line in lines:
        ref = line.household.pop("grid", None)
        if not ref:
            continue
        grid = ctx.grids_by_code.get(ref)
        if grid is None:
            named = ctx.grids_by_name.get(ref, [])
            if len(named) > 1:
                line.errors.append(f"所属网格“{ref}”有重名，请填写网格编码")
                continue
            grid = named[0] if named else None
        if grid is None:
            line.errors.append(f"找不到所属网格“{ref}”（{ctx.village.name}没有这个编码或名称的网格）")
            continue
        problems = ctx.grid_problem(grid)
        if problems:
            line.errors.extend(f"所属网格“{ref}”：{message}" for message in problems)
            continue
        line.household["grid"] = grid


# =============================================================================================
# households and persons: what the file asks for


@dataclass
class _HouseholdItem:
    code: str
    lines: list[_Line]
    existing: Household | None
    target: Household
    changed: list[str]


@dataclass
class _PersonItem:
    line: _Line
    household: _HouseholdItem
    existing: Person | None
    target: Person
    changed: list[str]
    moved_from: Household | None = None
    joined: bool = False  # an existing person who was in no household


@dataclass
class HouseholdPlan:
    errors: dict[int, list[str]]
    households: list[_HouseholdItem]
    persons: list[_PersonItem]


def _differs(a, b) -> bool:
    if isinstance(a, Grid) or isinstance(b, Grid):
        return getattr(a, "pk", None) != getattr(b, "pk", None)
    return a != b


def group_address(group: Region, village: Region) -> str:
    """新坪村一组 for the group 一组 of 新坪村: the address of a household whose roster has none."""
    return group.name if group.name.startswith(village.name) else f"{village.name}{group.name}"


def _address_note(plan: HouseholdPlan, present: set[str]) -> list[str]:
    if "address" in present:
        return []
    created = [item for item in plan.households if item.existing is None]
    if not created:
        return ["文件没有“家庭住址”列：已登记住户的住址保持不变。"]
    example = created[0].target.address
    return [f"文件没有“家庭住址”列：{len(created)}户新建住户的住址暂用所属村民小组名称（如“{example}”），"
            f"已登记住户的住址保持不变；导入后请补充门牌号。"]


def _household_target(code, values, existing, ctx, errors, first_row,
                      group_written: bool = False) -> tuple[Household, list[str]]:
    present, village = ctx.present, ctx.village
    if existing is not None:
        target = copy.copy(existing)
    else:
        target = Household(code=code, address="", poverty_status=PovertyStatus.NONE, peaceful_family_years=[],
                           **territory(village))
    if "address" in present:
        target.address = values.get("address", "")
        if not target.address:
            errors[first_row].append("新建住户须填写家庭住址" if existing is None else "家庭住址不能为空")
    elif existing is None:
        # A roster without a 家庭住址 column (many villages keep only the group): the address falls
        # back to the villager group, and the report says so (``_address_note``).
        group = values.get("group")
        if group is not None and group.level == RegionLevel.GROUP:
            target.address = group_address(group, village)
        elif group is None and group_written:
            pass  # the 所属村组 cell is wrong and already reported on its row
        else:
            errors[first_row].append("文件没有“家庭住址”列：新建住户须填写所属村组（住址暂用村民小组名称）")
    if "grid" in present:
        target.grid = values.get("grid")
    if "annual_income" in present:
        target.annual_income = values.get("annual_income")
    if "poverty_status" in present:
        target.poverty_status = values.get("poverty_status", PovertyStatus.NONE)
    if "peaceful_years" in present:
        target.peaceful_family_years = values.get("peaceful_years", [])
    grid = target.grid if target.grid_id else None
    if values.get("group") is not None:
        target.region = values["group"]
    elif "group" not in present and existing is not None:
        pass  # no 所属村组 column: the household stays in its villager group
    elif grid is not None and grid.region.level == RegionLevel.GROUP and grid.region.parent_id == village.pk:
        target.region = grid.region
    else:
        target.region = village
    for column, value in territory(village).items():
        setattr(target, column, value)
    # An empty address has been reported in words above; the model's "此字段不能为空" would repeat it.
    exclude = ["region", "grid", "county", "town", "village"] + ([] if target.address else ["address"])
    errors[first_row].extend(_fields_clean(target, exclude))
    changed = []
    if existing is not None:
        for name in ("address", "grid", "region", "annual_income", "poverty_status", "peaceful_family_years"):
            before = getattr(existing, f"{name}_id") if name in ("grid", "region") else getattr(existing, name)
            after = getattr(target, f"{name}_id") if name in ("grid", "region") else getattr(target, name)
            if before != after:
                changed.append(name)
    return target, changed


def _person_target(line: _Line, existing: Person | None, household: _HouseholdItem) -> tuple[Person, list[str]]:
    if existing is not None:
        target = copy.copy(existing)
    else:
        target = Person(id_number=line.facts["id_number"], birth_date=line.facts["birth_date"],
                        sex=line.facts["sex"], status=PersonStatus.ACTIVE, left_behind="")
    for key, value in line.person.items():
        setattr(target, key, value)
    target.name_initials = name_initials(target.name)
    target.status = PersonStatus.ACTIVE
    target.region = household.target.region
    for column in ("county_id", "town_id", "village_id"):
        setattr(target, column, getattr(household.target, column))
    changed = []
    if existing is not None:
        for name in ("name", "relation", "phone", "left_behind", "disability_grade", "released_on", "status"):
            if getattr(existing, name) != getattr(target, name):
                changed.append(name)
        if existing.region_id != target.region_id:
            changed.append("region")
    return target, changed


def _plan_households(lines: list[_Line], ctx: _HouseholdContext, include: set[str] | None = None) -> HouseholdPlan:
    """Check the rows against each other and the database; build what to write.

    ``include``: only these households (the valid-only mode's re-check); None: the whole file.
    """
    errors: dict[int, list[str]] = defaultdict(list)
    active = [line for line in lines if line.code and (include is None or line.code in include)]
    groups: dict[str, list[_Line]] = {}
    for line in active:
        groups.setdefault(line.code, []).append(line)

    by_id: dict[str, list[_Line]] = defaultdict(list)
    for line in active:
        if line.id_number:
            by_id[line.id_number].append(line)
    for same in by_id.values():
        if len(same) > 1:
            rows = "、".join(str(line.row) for line in same)
            for line in same:
                errors[line.row].append(f"身份证号在文件中重复出现（第{rows}行）")
    file_ids = set(by_id)
    village = ctx.village

    households, persons = [], []
    for code, group in groups.items():
        first = group[0]
        values: dict[str, object] = {}
        where: dict[str, int] = {}
        for line in group:
            for key, value in line.household.items():
                if key not in values:
                    values[key], where[key] = value, line.row
                elif _differs(values[key], value):
                    errors[line.row].append(f"{label(key)}与本户第{where[key]}行不一致")

        existing = ctx.households.get(code)
        if existing is not None and existing.village_id != village.pk:
            errors[first.row].append(f"户号{code}已被其他村（社区）的住户使用")
            continue

        heads = [line for line in group if line.person.get("relation") == Relation.HEAD]
        if not heads and all(line.relation_ok for line in group):
            errors[first.row].append(f"户号{code}没有户主（须有一人的与户主关系为“户主”）")
        for extra in heads[1:]:
            errors[extra.row].append(f"户号{code}有两个户主（第{heads[0].row}行已是户主）")
        if existing is not None and heads:
            for member in ctx.members.get(existing.pk, []):
                if member.relation == Relation.HEAD and member.id_number not in file_ids:
                    errors[heads[0].row].append(
                        f"该户已有户主{member.name}（本文件未列出）；如要更换户主，请把原户主也列入本户并修改其与户主关系")

        target, changed = _household_target(code, values, existing, ctx, errors, first.row,
                                            group_written=any(line.group_text for line in group))
        item = _HouseholdItem(code=code, lines=group, existing=existing, target=target, changed=changed)
        households.append(item)

        for line in group:
            if not line.id_number or line.errors:
                continue
            person = ctx.persons.get(line.id_number)
            moved_from, joined = None, False
            if person is not None:
                if person.status == PersonStatus.DECEASED:
                    errors[line.row].append(f"该身份证号登记的人员（{person.name}）已故，不能导入")
                    continue
                if person.household_id is None:
                    joined = True
                elif existing is None or person.household_id != existing.pk:
                    source = person.household
                    if source.code in groups and source.village_id == village.pk:
                        moved_from = source
                    else:
                        there = f"户号{source.code}" if source.village_id == village.pk else "其他村（社区）的住户"
                        errors[line.row].append(
                            f"此人已登记在{there}中，与本行户号{code}不同；如确需迁移，请先办理迁出，"
                            f"或在同一文件中同时列出原户")
                        continue
            person_target, person_changed = _person_target(line, person, item)
            if moved_from is not None or joined:
                person_changed = sorted(set(person_changed) | {"household"})
            errors[line.row].extend(_fields_clean(person_target, ["household", "region", "county", "town", "village"]))
            persons.append(_PersonItem(line=line, household=item, existing=person, target=person_target,
                                       changed=person_changed, moved_from=moved_from, joined=joined))
    return HouseholdPlan(errors={k: v for k, v in errors.items() if v}, households=households, persons=persons)


def _household_counts(plan: HouseholdPlan, rows: int, skipped_rows: int = 0, skipped=()) -> Plan:
    result = Plan(rows=rows, skipped_rows=skipped_rows, skipped_households=sorted(skipped))
    for item in plan.households:
        bucket = "create" if item.existing is None else ("update" if item.changed else "unchanged")
        setattr(result.households, bucket, getattr(result.households, bucket) + 1)
    for item in plan.persons:
        if item.existing is None:
            result.persons.create += 1
        elif item.moved_from is not None or item.joined:
            result.persons.move += 1
        elif item.changed:
            result.persons.update += 1
        else:
            result.persons.unchanged += 1
    return result


def _household_changes(plan: HouseholdPlan) -> list[dict]:
    changes = []
    for item in plan.households:
        if item.existing is not None and item.changed:
            changes.append({"row": item.lines[0].row, "what": f"户号{item.code}",
                            "fields": [FIELD_LABELS[f] for f in item.changed]})
    for item in plan.persons:
        if item.existing is None or not item.changed:
            continue
        fields = [FIELD_LABELS[f] for f in item.changed if f in FIELD_LABELS and f != "region"]
        if item.moved_from is not None:
            fields.insert(0, f"从户号{item.moved_from.code}迁入户号{item.household.code}")
        elif item.joined:
            fields.insert(0, f"加入户号{item.household.code}")
        if fields:
            changes.append({"row": item.line.row, "what": item.line.name, "fields": fields})
    return sorted(changes, key=lambda c: c["row"])


def _row_errors(rows: list[tuple[int, str, str]], fixed: dict[int, list[str]],
                found: dict[int, list[str]]) -> list[RowError]:
    result = []
    for number, household, name in rows:
        messages = fixed.get(number, []) + found.get(number, [])
        if messages:
            result.append(RowError(row=number, messages=list(dict.fromkeys(messages)), household=household, name=name))
    return result


def _fixpoint(first_errors: dict[int, list[str]], units: dict[int, str], replan):
    """Valid-only mode: drop every unit (household / grid) with a bad row and re-check what is
    left until the re-check finds nothing new. ``units``: row → its unit key ("" = none)."""
    include = {unit for unit in units.values() if unit} - {units[row] for row in first_errors}
    while True:
        plan = replan(include)
        newly = {units[row] for row in plan.errors if units.get(row) in include}
        if not newly:
            return plan, include
        include -= newly


def _check_households(table: parsing.Table, village: Region, report: Report):
    refs = _RegionRefs(village)
    lines = _household_lines(table, village, refs)
    ctx = _household_context(lines, village, set(table.columns))
    _resolve_grids(lines, ctx)
    fixed = {line.row: line.errors for line in lines if line.errors}
    plan = _plan_households(lines, ctx)
    report.errors = _row_errors([(line.row, line.code, line.name) for line in lines], fixed, plan.errors)
    report.plan = _household_counts(plan, rows=len(lines))
    report.changes = _household_changes(plan)
    if not report.errors:
        report.valid_only = report.plan
        report.notes += _address_note(plan, ctx.present)
        return plan, plan
    units = {line.row: line.code for line in lines}
    bad_rows = {e.row: e.messages for e in report.errors}
    valid_plan, include = _fixpoint(bad_rows, units, lambda inc: _plan_households(lines, ctx, inc))
    skipped = {line.code for line in lines if line.code and line.code not in include}
    skipped_rows = sum(1 for line in lines if line.code not in include)
    report.valid_only = _household_counts(valid_plan, rows=len(lines) - skipped_rows, skipped_rows=skipped_rows,
                                          skipped=skipped)
    report.changes = _household_changes(valid_plan)
    report.notes += _address_note(valid_plan, ctx.present)
    return plan, valid_plan


# =============================================================================================
# grids


@dataclass
class _GridLine:
    row: int
    code: str
    name: str = ""
    level: int | None = None
    parent_code: str = ""
    region: Region | None = None
    head_id: str = ""
    worker_id: str = ""
    head_name: str = ""
    worker_name: str = ""
    errors: list[str] = field(default_factory=list)


def _grid_lines(table: parsing.Table, village: Region, refs: _RegionRefs) -> list[_GridLine]:
    present = set(table.columns)
    lines = []
    for row in table.rows:
        cells = row.values
        line = _GridLine(row=row.number, code=parsing.clean_code(cells.get("code")))
        errors = line.errors
        if not line.code:
            errors.append("网格编码不能为空")
        elif len(line.code) > 32:
            errors.append("网格编码过长（最多32个字符）")
        line.name = parsing.clean_text(cells.get("name"))
        if not line.name:
            errors.append("网格名称不能为空")
        line.level, _ok = _parse(errors, parsing.parse_grid_level, cells.get("level"))
        line.parent_code = parsing.clean_code(cells.get("parent_code"))
        group = parsing.clean_code(cells.get("group"))
        if group:
            line.region, _ok = _parse(errors, refs.resolve, group)
        for role, what in (("head", "网格长"), ("worker", "网格员")):
            raw = cells.get(f"{role}_id")
            setattr(line, f"{role}_name", parsing.clean_name(cells.get(f"{role}_name")))
            if f"{role}_id" in present and parsing.clean_code(raw):
                before = len(errors)
                facts, ok = _parse(errors, _id_facts, raw)
                if ok:
                    setattr(line, f"{role}_id", facts["id_number"])
                else:
                    errors[before:] = [f"{what}{message}" for message in errors[before:]]
        village_code = parsing.clean_code(cells.get("village_code"))
        if village_code and village_code != village.code:
            errors.append(f"本行属于其他村（社区）（代码{village_code}），不能导入到{village.name}")
        lines.append(line)
    return lines


@dataclass
class _GridContext:
    village: Region
    present: set[str]
    grids: dict[str, Grid]
    with_households: set[int]
    persons: dict[str, Person]


@dataclass
class _GridItem:
    line: _GridLine
    existing: Grid | None
    target: Grid
    changed: list[str]
    parent_code: str


@dataclass
class GridPlan:
    errors: dict[int, list[str]]
    grids: list[_GridItem]


def _plan_grids(lines: list[_GridLine], ctx: _GridContext, include: set[str] | None = None) -> GridPlan:
    errors: dict[int, list[str]] = defaultdict(list)
    village = ctx.village
    active = [line for line in lines if line.code and (include is None or line.code in include)]
    by_code: dict[str, list[_GridLine]] = defaultdict(list)
    for line in active:
        by_code[line.code].append(line)
    for same in by_code.values():
        if len(same) > 1:
            rows = "、".join(str(line.row) for line in same)
            for line in same:
                errors[line.row].append(f"网格编码在文件中重复出现（第{rows}行）")
    items = []
    for line in active:
        if line.errors or len(by_code[line.code]) > 1:
            continue
        existing = ctx.grids.get(line.code)
        if existing is not None and existing.village_id != village.pk:
            errors[line.row].append(f"网格编码{line.code}已被其他村（社区）的网格使用")
            continue
        parent = None
        if line.parent_code:
            if line.parent_code == line.code:
                errors[line.row].append("上级网格不能是本网格")
                continue
            file_parent = by_code.get(line.parent_code)
            parent = ctx.grids.get(line.parent_code)
            if parent is None and file_parent:
                parent = Grid(code=line.parent_code, level=file_parent[0].level, village_id=village.pk)
            if parent is None:
                errors[line.row].append(f"找不到上级网格“{line.parent_code}”")
                continue
        if line.region is not None:
            region = line.region
        elif existing is not None and "group" not in ctx.present:
            region = existing.region
        else:
            region = village
        try:
            _validate_grid_placement(region=region, level=line.level, parent=parent)
        except ValidationError as exc:
            errors[line.row].extend(_messages(exc))
            continue
        if existing is not None:
            if existing.level != line.level:
                errors[line.row].append(f"已有网格的层级不能通过导入修改（现为{existing.level}级）")
            old_parent = existing.parent.code if existing.parent_id else ""
            if old_parent != line.parent_code:
                errors[line.row].append(f"已有网格的上级网格不能通过导入修改（现为“{old_parent or '无'}”）")
        elif parent is not None and parent.pk and parent.pk in ctx.with_households:
            errors[line.row].append(f"上级网格“{parent.code}”已编入住户，不能再下设子网格（住户只能编入最小一级的基础网格）")

        target = copy.copy(existing) if existing is not None else Grid(code=line.code, level=line.level)
        target.name = line.name
        target.region = region
        for column, value in territory(village).items():
            setattr(target, column, value)
        for role, what in (("head", "网格长"), ("worker", "网格员")):
            if f"{role}_id" not in ctx.present:
                continue
            number, name = getattr(line, f"{role}_id"), getattr(line, f"{role}_name")
            person = None
            if number:
                person = ctx.persons.get(number)
                if person is None:
                    errors[line.row].append(f"{what}身份证号{mask_id_number(number)}未在您管辖的范围内登记")
                elif name and name != person.name:
                    errors[line.row].append(f"{what}姓名“{name}”与身份证号登记的姓名不符")
            setattr(target, role, person)
        errors[line.row].extend(_fields_clean(target, ["parent", "region", "head", "worker", "path",
                                                       "county", "town", "village"], GRID_FIELD_LABELS))
        changed = []
        if existing is not None:
            for name in ("name", "region_id", "head_id", "worker_id"):
                if getattr(existing, name) != getattr(target, name):
                    changed.append(name.removesuffix("_id"))
        items.append(_GridItem(line=line, existing=existing, target=target, changed=changed,
                               parent_code=line.parent_code))
    return GridPlan(errors={k: v for k, v in errors.items() if v}, grids=items)


def _grid_counts(plan: GridPlan, rows: int, skipped_rows: int = 0, skipped=()) -> Plan:
    result = Plan(rows=rows, skipped_rows=skipped_rows, skipped_households=sorted(skipped))
    for item in plan.grids:
        bucket = "create" if item.existing is None else ("update" if item.changed else "unchanged")
        setattr(result.grids, bucket, getattr(result.grids, bucket) + 1)
    return result


def _check_grids(table: parsing.Table, village: Region, report: Report, actor):
    refs = _RegionRefs(village)
    lines = _grid_lines(table, village, refs)
    codes = {line.code for line in lines} | {line.parent_code for line in lines}
    grids = {g.code: g for g in selectors.lookup_grids(village=village, codes=codes)}
    ctx = _GridContext(
        village=village, present=set(table.columns), grids=grids,
        with_households=selectors.lookup_grids_with_households(grid_ids=[g.pk for g in grids.values()]),
        persons=selectors.persons_in_scope(user=actor, id_numbers=[x for line in lines
                                                                   for x in (line.head_id, line.worker_id)]),
    )
    fixed = {line.row: line.errors for line in lines if line.errors}
    plan = _plan_grids(lines, ctx)
    report.errors = _row_errors([(line.row, line.code, line.name) for line in lines], fixed, plan.errors)
    report.plan = _grid_counts(plan, rows=len(lines))
    report.changes = _grid_changes(plan)
    if not report.errors:
        report.valid_only = report.plan
        return plan, plan
    units = {line.row: line.code for line in lines}
    bad_rows = {e.row: e.messages for e in report.errors}
    valid_plan, include = _fixpoint(bad_rows, units, lambda inc: _plan_grids(lines, ctx, inc))
    skipped_lines = [line for line in lines if line.code not in include]
    report.valid_only = _grid_counts(valid_plan, rows=len(lines) - len(skipped_lines),
                                     skipped_rows=len(skipped_lines),
                                     skipped={line.code for line in skipped_lines if line.code})
    report.changes = _grid_changes(valid_plan)
    return plan, valid_plan


def _grid_changes(plan: GridPlan) -> list[dict]:
    return [{"row": item.line.row, "what": f"网格{item.line.code}",
             "fields": [GRID_FIELD_LABELS[f] for f in item.changed]}
            for item in plan.grids if item.existing is not None and item.changed]


# =============================================================================================
# the check


def check(*, actor, village: Region, kind: str, filename: str, content: bytes):
    """(report, plan for everything, plan for the valid rows only); the plans are None when the
    file cannot be read. Reads only."""
    if kind not in RosterKind.values:
        raise ValidationError("导入类型只能是住户（households）或网格（grids）")
    report = Report(kind=kind, filename=filename, village_id=village.pk, village_name=village.name)
    try:
        table = parsing.read_table(content, filename, kind)
    except RosterFileError as exc:
        report.file_errors = [str(exc)]
        return report, None, None
    report.sheet, report.header_row, report.ignored_headers = table.sheet, table.header_row, table.ignored_headers
    report.rows_read = len(table.rows)
    report.skipped_lines = table.skipped
    if kind == RosterKind.HOUSEHOLDS:
        plan, valid_plan = _check_households(table, village, report)
    else:
        plan, valid_plan = _check_grids(table, village, report, actor)
    return report, plan, valid_plan
