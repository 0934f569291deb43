"""Every write to the registry. Each service:

* takes a keyword-only ``actor``,
* runs in one transaction,
* checks the actor's permission and scope (``access_object`` before, ``recheck_in_scope`` after
  the write, so a change that would move a record out of the actor's scope is rolled back),
* validates with ``full_clean`` and raises ``ValidationError`` with messages in Chinese,
* writes its audit record with before/after snapshots.

Bulk paths (roster import, demo generation) call the same validation helpers and write one audit
row per record (import) or one per run (generation).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field as dataclass_field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from pypinyin import Style, lazy_pinyin

from gongzhi.core.audit import AuditAction, audit_record, snapshot
from gongzhi.core.idcard import InvalidIdNumber, parse_id_number
from gongzhi.core.masking import MASKERS
from gongzhi.core.scoping import access_object, has_perm_anywhere, recheck_in_scope, require_perm

from . import geometry as geometry_module
from .outbox import announce_household_facts_changed
from .models import (
    KIND_LEVEL, Grid, Household, HouseholdMembership, Person, PersonStatus, PovertyStatus, Region,
    RegionLevel, Relation,
)

# ---------------------------------------------------------------------------------------------
# helpers


def name_initials(name: str) -> str:
    """Pinyin initials for search: 张三丰 → zsf."""
    return "".join(p[0] for p in lazy_pinyin(name, style=Style.FIRST_LETTER) if p).lower()[:50]


def _territory_of(region: Region) -> dict:
    return {"county_id": region.county_id, "town_id": region.town_id, "village_id": region.village_id}


def _set_fields(obj, changes: dict, allowed: set[str]) -> list[str]:
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(f"不能修改这些字段：{', '.join(sorted(unknown))}")
    changed = []
    for name, value in changes.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


def parse_income(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).replace(",", "").replace("，", "").strip())
    except InvalidOperation:
        raise ValidationError({"annual_income": "收入必须是数字"}) from None
    if amount < 0:
        raise ValidationError({"annual_income": "收入不能为负数"})
    return amount.quantize(Decimal("0.01"))


# ---------------------------------------------------------------------------------------------
# regions


def validate_region_code(*, code: str, kind: str, parent: Region | None) -> int:
    level = KIND_LEVEL.get(kind)
    if level is None:
        raise ValidationError({"kind": "未知的区划类型"})
    if level == RegionLevel.COUNTY:
        if parent is not None and parent.level != RegionLevel.COUNTY:
            raise ValidationError({"parent": "县级区划不能挂在其他区划下"})
        if len(code) != 12 or not code.isdigit() or not code.endswith("000000"):
            raise ValidationError({"code": "县级区划代码应为12位，后6位为0"})
        return level
    if parent is None or parent.level != level - 1:
        raise ValidationError({"parent": "上级区划层级不对"})
    if level == RegionLevel.TOWN and not (len(code) == 12 and code[:6] == parent.code[:6] and code.endswith("000")):
        raise ValidationError({"code": "镇（街道）代码应为12位，前6位与县相同，后3位为0"})
    if level == RegionLevel.VILLAGE and not (len(code) == 12 and code[:9] == parent.code[:9] and code[9:] != "000"):
        raise ValidationError({"code": "村（社区）代码应为12位，前9位与镇相同"})
    if level == RegionLevel.GROUP and not (len(code) == 15 and code[:12] == parent.code):
        raise ValidationError({"code": "村民小组代码应为15位：村代码加3位序号"})
    if not code.isdigit():
        raise ValidationError({"code": "区划代码只能是数字"})
    return level


@transaction.atomic
def region_create(*, actor, code: str, name: str, kind: str, parent: Region | None = None,
                  population: int | None = None) -> Region:
    if actor is not None:
        require_perm(actor, "registry.add_region")
    level = validate_region_code(code=code, kind=kind, parent=parent)
    region = Region(code=code, name=name, kind=kind, level=level, parent=parent, population=population)
    if parent is not None:
        region.county_id, region.town_id, region.village_id = parent.county_id, parent.town_id, parent.village_id
    region.full_clean(exclude=["county", "town", "village"])
    region.save()
    # A region's own id goes into the column of its own level.
    column = {1: "county_id", 2: "town_id", 3: "village_id"}.get(level)
    if column:
        setattr(region, column, region.pk)
        region.save(update_fields=[column])
    audit_record(actor=actor, action=AuditAction.CREATE, obj=region, after=snapshot(region))
    return region


# ---------------------------------------------------------------------------------------------
# grids


def _validate_grid_placement(*, region: Region, level: int, parent: Grid | None) -> None:
    if region.level < RegionLevel.VILLAGE:
        raise ValidationError({"region": "网格必须建在村（社区）或村民小组内"})
    if level not in (1, 2, 3):
        raise ValidationError({"level": "网格层级只能是1、2、3"})
    if parent is None and level != 1:
        raise ValidationError({"parent": "二、三级网格必须有上级网格"})
    if parent is not None:
        if parent.level != level - 1:
            raise ValidationError({"parent": "上级网格的层级应比本网格高一级"})
        if parent.village_id != region.village_id:
            raise ValidationError({"parent": "上级网格不在同一个村（社区）"})


@transaction.atomic
def grid_create(*, actor, region: Region, code: str, name: str, level: int, parent: Grid | None = None,
                head: Person | None = None, worker: Person | None = None) -> Grid:
    require_perm(actor, "registry.add_grid")
    _validate_grid_placement(region=region, level=level, parent=parent)
    grid = Grid(region=region, code=code, name=name, level=level, parent=parent, head=head, worker=worker,
                **_territory_of(region))
    grid.full_clean(exclude=["path"])
    grid.save()
    grid.path = f"{parent.path if parent else '/'}{grid.pk}/"
    grid.save(update_fields=["path"])
    recheck_in_scope(grid, actor, "registry.add_grid")
    audit_record(actor=actor, action=AuditAction.CREATE, obj=grid, after=snapshot(grid))
    return grid


@transaction.atomic
def grid_update(*, actor, grid: Grid, **changes) -> Grid:
    grid = access_object(Grid.objects.select_for_update(), actor, "registry.change_grid", pk=grid.pk)
    before = snapshot(grid)
    if not _set_fields(grid, changes, {"name", "head", "worker"}):
        return grid
    grid.full_clean()
    grid.save()
    recheck_in_scope(grid, actor, "registry.change_grid")
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=grid, before=before, after=snapshot(grid))
    return grid


# ---------------------------------------------------------------------------------------------
# households


def validate_household_grid(*, region: Region, grid: Grid | None) -> None:
    if grid is None:
        return
    if grid.village_id != region.village_id:
        raise ValidationError({"grid": "网格不在该户所在的村（社区）"})
    if grid.children.exists():
        raise ValidationError({"grid": "住户只能编入最小一级的基础网格"})


@transaction.atomic
def household_create(*, actor, region: Region, code: str, address: str, grid: Grid | None = None,
                     annual_income=None, poverty_status: str = PovertyStatus.NONE,
                     peaceful_family_years: list[int] | None = None, notes: str = "") -> Household:
    require_perm(actor, "registry.add_household")
    if region.level < RegionLevel.VILLAGE:
        raise ValidationError({"region": "住户必须属于某个村（社区）或村民小组"})
    validate_household_grid(region=region, grid=grid)
    household = Household(
        region=region, code=code, address=address, grid=grid, annual_income=parse_income(annual_income),
        poverty_status=poverty_status, peaceful_family_years=sorted(set(peaceful_family_years or [])),
        notes=notes, **_territory_of(region),
    )
    household.full_clean()
    household.save()
    recheck_in_scope(household, actor, "registry.add_household")
    audit_record(actor=actor, action=AuditAction.CREATE, obj=household, after=snapshot(household))
    return household


HOUSEHOLD_EDITABLE = {"address", "grid", "region", "annual_income", "poverty_status", "peaceful_family_years", "notes"}


@transaction.atomic
def household_update(*, actor, household: Household, **changes) -> Household:
    household = access_object(Household.objects.select_for_update(), actor, "registry.change_household", pk=household.pk)
    before = snapshot(household)
    if "annual_income" in changes:
        changes["annual_income"] = parse_income(changes["annual_income"])
    if "peaceful_family_years" in changes:
        changes["peaceful_family_years"] = sorted(set(int(y) for y in changes["peaceful_family_years"] or []))
    changed = _set_fields(household, changes, HOUSEHOLD_EDITABLE)
    if not changed:
        return household
    if "region" in changed:
        for column, value in _territory_of(household.region).items():
            setattr(household, column, value)
    if {"grid", "region"} & set(changed):
        validate_household_grid(region=household.region, grid=household.grid)
    household.full_clean()
    household.save()
    if "region" in changed:
        # Members' cached territory follows their household.
        household.members.update(region=household.region, **_territory_of(household.region))
    recheck_in_scope(household, actor, "registry.change_household")
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=household, before=before, after=snapshot(household))
    announce_household_facts_changed(household_ids={household.pk}, actor=actor)
    return household


@transaction.atomic
def household_delete(*, actor, household: Household) -> None:
    household = access_object(Household.objects.select_for_update(), actor, "registry.delete_household", pk=household.pk)
    if household.members.exists():
        raise ValidationError("该户还有成员，请先迁出或注销成员")
    before = snapshot(household)
    audit_record(actor=actor, action=AuditAction.DELETE, obj=household, before=before)
    household.delete()


# ---------------------------------------------------------------------------------------------
# persons


def person_facts_from_id(id_number: str) -> dict:
    try:
        facts = parse_id_number(id_number)
    except InvalidIdNumber as exc:
        raise ValidationError({"id_number": str(exc)}) from None
    return {"id_number": facts.number, "birth_date": facts.birth_date, "sex": facts.sex}


def validate_relation(*, household: Household | None, relation: str, person: Person | None = None) -> None:
    if household is None:
        return
    if relation not in Relation.values:
        raise ValidationError({"relation": "与户主关系不正确"})
    if relation == Relation.HEAD:
        heads = household.members.filter(relation=Relation.HEAD, status=PersonStatus.ACTIVE)
        if person is not None and person.pk:
            heads = heads.exclude(pk=person.pk)
        if heads.exists():
            raise ValidationError({"relation": "该户已有户主"})


@transaction.atomic
def person_create(*, actor, name: str, id_number: str, household: Household | None = None, relation: str = "",
                  phone: str = "", region: Region | None = None, left_behind: str = "",
                  disability_grade: int | None = None, released_on: dt.date | None = None,
                  started_on: dt.date | None = None) -> Person:
    require_perm(actor, "registry.add_person")
    facts = person_facts_from_id(id_number)
    if Person.objects.filter(id_number=facts["id_number"]).exists():
        raise ValidationError({"id_number": "该身份证号已登记"})
    if household is not None:
        household = access_object(Household.objects.select_for_update(), actor, "registry.change_household", pk=household.pk)
        region = household.region
        validate_relation(household=household, relation=relation)
    if region is None:
        raise ValidationError({"region": "请指定户籍所在地或所属户"})
    person = Person(
        name=name.strip(), name_initials=name_initials(name.strip()), phone=phone.strip(), household=household,
        relation=relation if household else "", region=region, left_behind=left_behind,
        disability_grade=disability_grade, released_on=released_on, **facts, **_territory_of(region),
    )
    person.full_clean()
    person.save()
    if household is not None:
        HouseholdMembership.objects.create(person=person, household=household, relation=relation,
                                           started_on=started_on or dt.date.today(), reason="登记")
    recheck_in_scope(person, actor, "registry.add_person")
    audit_record(actor=actor, action=AuditAction.CREATE, obj=person, after=snapshot(person))
    announce_household_facts_changed(household_ids={person.household_id}, actor=actor)
    return person


PERSON_EDITABLE = {"name", "id_number", "phone", "relation", "status", "left_behind", "disability_grade", "released_on"}


@transaction.atomic
def person_update(*, actor, person: Person, **changes) -> Person:
    person = access_object(Person.objects.select_for_update(), actor, "registry.change_person", pk=person.pk)
    before = snapshot(person)
    if "id_number" in changes:
        facts = person_facts_from_id(changes.pop("id_number"))
        if Person.objects.filter(id_number=facts["id_number"]).exclude(pk=person.pk).exists():
            raise ValidationError({"id_number": "该身份证号已登记"})
        person.birth_date, person.sex = facts["birth_date"], facts["sex"]
        changes["id_number"] = facts["id_number"]
    if "name" in changes:
        changes["name"] = changes["name"].strip()
        person.name_initials = name_initials(changes["name"])
    if "relation" in changes:
        validate_relation(household=person.household, relation=changes["relation"], person=person)
    changed = _set_fields(person, changes, PERSON_EDITABLE)
    if not changed:
        return person
    person.full_clean()
    person.save()
    if "relation" in changed:
        HouseholdMembership.objects.filter(person=person, ended_on__isnull=True).update(relation=person.relation)
    recheck_in_scope(person, actor, "registry.change_person")
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=person, before=before, after=snapshot(person))
    announce_household_facts_changed(household_ids={person.household_id}, actor=actor)
    return person


@transaction.atomic
def person_move(*, actor, person: Person, to_household: Household | None, relation: str = "",
                reason: str = "", on: dt.date | None = None) -> Person:
    """Move a person to another household (or out of every household), keeping the history."""
    person = access_object(Person.objects.select_for_update(), actor, "registry.change_person", pk=person.pk)
    if to_household is not None:
        to_household = access_object(Household.objects.select_for_update(), actor, "registry.change_household",
                                     pk=to_household.pk)
        if to_household.pk == person.household_id:
            return person
        validate_relation(household=to_household, relation=relation)
    if not reason:
        raise ValidationError({"reason": "请填写迁移原因"})
    on = on or dt.date.today()
    before = snapshot(person)
    left_household_id = person.household_id
    HouseholdMembership.objects.filter(person=person, ended_on__isnull=True).update(ended_on=on, reason=reason)
    person.household = to_household
    if to_household is not None:
        person.relation = relation
        person.region = to_household.region
        for column, value in _territory_of(to_household.region).items():
            setattr(person, column, value)
        person.status = PersonStatus.ACTIVE
        HouseholdMembership.objects.create(person=person, household=to_household, relation=relation,
                                           started_on=on, reason=reason)
    else:
        person.relation = ""
        person.status = PersonStatus.MOVED_OUT
    person.save()
    if to_household is not None:
        recheck_in_scope(person, actor, "registry.change_person")
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=person, before=before, after=snapshot(person),
                 note=f"迁移：{reason}")
    announce_household_facts_changed(household_ids={left_household_id, person.household_id}, actor=actor)
    return person


@transaction.atomic
def person_reveal_field(*, actor, person: Person, field: str) -> str:
    """Return the unmasked value of a sensitive field; the reveal itself is audited."""
    if field not in MASKERS:
        raise ValidationError({"field": "该字段不需要显示"})
    person = access_object(Person.objects.all(), actor, "registry.reveal_person", pk=person.pk)
    audit_record(actor=actor, action=AuditAction.REVEAL, obj=person, note=f"显示{ {'id_number': '身份证号', 'phone': '电话'}[field] }（{field}）")
    return getattr(person, field)


def ensure_actor_can(actor, perm: str) -> None:
    if not actor.has_perm(perm):
        raise PermissionDenied


# ---------------------------------------------------------------------------------------------
# map geometry (gongzhi.registry.geometry): centres and outlines of regions and grids

GEOMETRY_FIELDS = ("lat", "lng", "outline")


@dataclass
class GeometryImportReport:
    """What an import of map geometry found and did. ``errors``: (feature number, code, message)."""

    features: int = 0
    regions: int = 0  # regions changed (or, in a dry run, that would change)
    grids: int = 0
    unchanged: int = 0
    errors: list = dataclass_field(default_factory=list)
    dry_run: bool = False

    @property
    def has_errors(self) -> bool:
        return bool(self.errors)

    def as_text(self) -> str:
        lines = [f"共 {self.features} 个要素：区划 {self.regions} 个、网格 {self.grids} 个"
                 f"{'将更新' if self.dry_run else '已更新'}，{self.unchanged} 个没有变化。"]
        if self.errors:
            lines.append(f"发现 {len(self.errors)} 处错误，未写入任何数据：")
            lines += [f"  第{number}个要素{f'（{code}）' if code else ''}：{message}"
                      for number, code, message in self.errors]
        return "\n".join(lines)


class GeometryImportRejected(Exception):
    """The file has errors: nothing was written. ``report`` lists them."""

    def __init__(self, report: GeometryImportReport):
        super().__init__(report.as_text())
        self.report = report


def _feature_geometry(feature) -> tuple[str, str | None, dict] | str:
    """(code, kind, {field: value}) from one GeoJSON feature, or an error message."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return "不是 GeoJSON Feature"
    properties = feature.get("properties")
    if not isinstance(properties, dict):
        return "缺少 properties"
    code = properties.get("code")
    if isinstance(code, int) and not isinstance(code, bool):
        code = str(code)
    if not isinstance(code, str) or not code.strip():
        return "properties.code 缺失：应为区划代码或网格代码"
    code = code.strip()
    kind = properties.get("kind")
    if kind not in (None, "", "region", "grid"):
        return f"properties.kind 只能是 region 或 grid，不能是 {kind!r}"
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict):
        return f"{code}：缺少几何（geometry）"
    values: dict = {}
    kind_of_geometry = geometry.get("type")
    if kind_of_geometry == "Point":
        position = geometry.get("coordinates")
        error = geometry_module.position_error(position, "点")
        if error:
            return error
        values["lng"], values["lat"] = position[0], position[1]
    elif kind_of_geometry in geometry_module.GEOMETRY_TYPES:
        errors = geometry_module.outline_errors(geometry)
        if errors:
            return errors[0]
        values["outline"] = {"type": kind_of_geometry, "coordinates": geometry["coordinates"]}
        values["lng"], values["lat"] = geometry_module.outline_centroid(geometry)
    else:
        return f"几何类型应为 Point、Polygon 或 MultiPolygon，不能是 {kind_of_geometry!r}"
    # An explicit centre (what export_geometry writes) wins over the centroid.
    lat, lng = properties.get("lat"), properties.get("lng")
    if lat is not None or lng is not None:
        error = geometry_module.position_error([lng, lat], "properties 中的 lat/lng")
        if error:
            return error
        values["lat"], values["lng"] = lat, lng
    values["lat"] = geometry_module.as_decimal(float(values["lat"]))
    values["lng"] = geometry_module.as_decimal(float(values["lng"]))
    return code, kind or None, values


def _by_code(queryset, codes: list[str]) -> dict:
    found = {}
    for start in range(0, len(codes), 2000):
        for obj in queryset.filter(code__in=codes[start:start + 2000]):
            found[obj.code] = obj
    return found


@transaction.atomic
def territory_geometry_import(*, actor, collection, dry_run: bool = False, source: str = "") -> GeometryImportReport:
    """Set the centre and outline of regions and grids from a GeoJSON FeatureCollection.

    Each feature names its region (division code) or grid (grid code) in ``properties.code``,
    optionally ``properties.kind`` ("region"/"grid") when a code could be either. A Polygon or
    MultiPolygon sets the outline and the centre (``properties.lat``/``lng`` when given, else the
    area-weighted centroid); a Point sets the centre only. All or nothing: any unknown code or
    invalid geometry rejects the whole file (``GeometryImportRejected``) and nothing is written.
    ``actor`` None is the system (the command line without ``--user``); a user needs
    ``registry.change_region``/``registry.change_grid`` over each row, a row outside their scope
    being "unknown" like a missing one. One audit row per changed region or grid.
    """
    perms = {"region": "registry.change_region", "grid": "registry.change_grid"}
    if actor is not None and not any(has_perm_anywhere(actor, perm) for perm in perms.values()):
        raise PermissionDenied
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection" \
            or not isinstance(collection.get("features"), list):
        raise ValidationError("文件不是 GeoJSON FeatureCollection（应有 \"type\": \"FeatureCollection\" 和 features 列表）")
    report = GeometryImportReport(features=len(collection["features"]), dry_run=dry_run)
    parsed = []
    seen: dict[str, int] = {}
    for number, feature in enumerate(collection["features"], start=1):
        result = _feature_geometry(feature)
        code = feature.get("properties", {}).get("code") if isinstance(feature, dict) and isinstance(
            feature.get("properties"), dict) else None
        if isinstance(result, str):
            report.errors.append((number, str(code) if code not in (None, "") else "", result))
            continue
        code, kind, values = result
        if code in seen:
            report.errors.append((number, code, f"与第{seen[code]}个要素的代码重复"))
            continue
        seen[code] = number
        parsed.append((number, code, kind, values))

    codes = [code for _, code, _, _ in parsed]
    querysets = {"region": Region.objects.select_for_update(), "grid": Grid.objects.select_for_update()}
    if actor is not None:
        querysets = {kind: qs.visible_to(actor, perms[kind]) for kind, qs in querysets.items()}
    found = {kind: _by_code(qs, codes) for kind, qs in querysets.items()}
    changes = []  # (object, kind, before)
    for number, code, kind, values in parsed:
        if kind is None:
            hits = [k for k in ("region", "grid") if code in found[k]]
            if len(hits) > 1:
                report.errors.append((number, code, "既是区划代码又是网格代码：请在 properties.kind 中注明 region 或 grid"))
                continue
            kind = hits[0] if hits else None
        obj = found[kind].get(code) if kind else None
        if obj is None:
            what = {"region": "区划代码", "grid": "网格代码"}.get(kind, "区划代码或网格代码")
            report.errors.append((number, code, f"未知的{what}（系统中没有，或不在您的管辖范围内）"))
            continue
        before = snapshot(obj)
        if all(getattr(obj, name) == value for name, value in values.items()):
            report.unchanged += 1
            continue
        for name, value in values.items():
            setattr(obj, name, value)
        try:
            obj.full_clean(exclude=[f.name for f in obj._meta.fields if f.name not in GEOMETRY_FIELDS],
                           validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            report.errors.append((number, code, "；".join(exc.messages)))
            continue
        changes.append((obj, kind, before))
        setattr(report, f"{kind}s", getattr(report, f"{kind}s") + 1)
    if report.has_errors:
        report.errors.sort(key=lambda error: error[0])
        raise GeometryImportRejected(report)
    if dry_run:
        return report
    for kind, model in (("region", Region), ("grid", Grid)):
        objects = [obj for obj, k, _ in changes if k == kind]
        if objects:
            model.objects.bulk_update(objects, list(GEOMETRY_FIELDS), batch_size=500)
    note = f"导入地图几何{f'：{source}' if source else ''}"
    for obj, _kind, before in changes:
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=obj, before=before, after=snapshot(obj), note=note)
    return report
