"""Roster import and export: every check and every write.

Import runs in two steps, both through this module:

1. **Check** (``roster_dry_run`` / ``roster_batch_create``; the rules are in ``checks``): read the
   file (``parsing``), validate every row against the file itself and the database, and produce a
   ``Report``: each bad row with its spreadsheet row number and the reasons in Chinese, and what an
   import would create or change. Nothing is written (``roster_batch_create`` only stores the file and its report in an
   ``ImportBatch`` so the web can confirm it later).
2. **Import** (``roster_import``): re-read and *re-check* the stored file inside one transaction
   (the data may have changed since the check), then write.

   * Default, all-or-nothing: any bad row → nothing is written (``RosterRejected``).
   * ``valid_only=True``: the **whole household of a bad row is skipped**, so no household is
     ever half-imported. Skipping a household can make another one wrong (a person who moves
     between two households of the file, a head who stays behind); the check is therefore re-run
     on what remains until nothing more needs skipping. For grids the same rule applies to a bad
     row and every grid below it.

Matching and updating (re-import never duplicates):

* a person is matched by ID number, a household by 户号, a grid by 网格编码;
* only the columns present in the file are compared and updated (a file without 联系电话 leaves
  phones alone); an empty cell in a present column clears the value;
* a household's fields may be written on every member's row or only once (merged cells); two
  different non-empty values in one household are an error;
* a person registered in *another* household is an error, unless that household is in the same
  file (the file then states both households, and the person moves; the membership history is
  kept as ``registry.services.person_move`` keeps it). Members of a household that the file does
  not list stay where they are: an import never removes anyone;
* a household's 所属村组 is the villager group named (by division code or name), the village
  itself when the village is named, otherwise the villager group of its grid when the grid covers
  one, otherwise the village;
* an existing grid's level and parent cannot be changed by import (that would move whole
  sub-trees and the households in them); its name, villager group, head and worker can.

Every created or changed household, person and grid gets an audit row (CREATE/UPDATE with the
batch in the note, before/after snapshots), and the import itself one IMPORT row on the batch.

Export (``roster_export``) writes exactly the import layout, with a title row; ID numbers and
phones are in clear only for persons the user may reveal (``registry.reveal_person`` in scope),
and the export is audited (EXPORT).

Permissions: ``roster.import_roster`` over the target village, ``roster.export_roster`` over the
exported region — both through ``gongzhi.core.scoping`` (403 without the permission anywhere,
404 for a region outside the user's scope).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import asdict, dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from gongzhi.core.audit import AuditAction, audit_record, snapshot
from gongzhi.core.masking import mask_id_number, mask_phone
from gongzhi.core.scoping import access_object
from gongzhi.registry.outbox import announce_household_facts_changed
from gongzhi.registry.models import Grid, Household, HouseholdMembership, Person, Region, RegionLevel, Relation

from . import parsing, selectors, writing
from .checks import GridPlan, HouseholdPlan, check, territory
from .layout import (
    DISABILITY_EXPORT, GRID_LEVEL_EXPORT, KIND_TITLES, LAYOUTS, LEFT_BEHIND_EXPORT, POVERTY_EXPORT, relation_word,
)
from .models import DEFAULT_UNCONFIRMED_RETENTION_DAYS, ImportBatch, ImportStatus, RosterKind, RosterSettings
from .parsing import RosterFileError
from .report import Counts, Plan, Report
from .selectors import EXPORT_PERM, IMPORT_PERM

FORMATS = ("xlsx", "csv")


class RosterRejected(Exception):
    """The import was refused and nothing was written; ``report`` says why."""

    def __init__(self, report: Report):
        super().__init__("roster rejected")
        self.report = report


def _access_village(actor, village: Region) -> Region:
    village = access_object(Region.objects.all(), actor, IMPORT_PERM, pk=village.pk)
    if village.level != RegionLevel.VILLAGE:
        raise ValidationError("只能导入到村（社区）")
    return village


# =============================================================================================
# check


def roster_dry_run(*, actor, village: Region, kind: str, filename: str, content: bytes) -> Report:
    """Check a roster file against the database and say what an import would do. Writes nothing."""
    village = _access_village(actor, village)
    report, _plan, _valid = check(actor=actor, village=village, kind=kind, filename=filename, content=content)
    return report


@transaction.atomic
def roster_batch_create(*, actor, village: Region, kind: str, filename: str, content: bytes) -> ImportBatch:
    """Check an uploaded file and keep it, with its report, for confirmation.

    A file that cannot be read at all raises ``RosterFileError`` and is not kept.
    """
    village = _access_village(actor, village)
    report, _plan, _valid = check(actor=actor, village=village, kind=kind, filename=filename, content=content)
    if report.file_errors:
        raise RosterFileError(report.file_errors[0])
    return ImportBatch.objects.create(
        kind=kind, village=village, county_id_cache=village.county_id, town_id_cache=village.town_id,
        filename=filename[:200], content=content, uploaded_by=actor, report=report.to_dict(),
    )


@transaction.atomic
def roster_batch_cancel(*, actor, batch: ImportBatch) -> ImportBatch:
    batch = access_object(ImportBatch.objects.select_for_update(), actor, IMPORT_PERM, pk=batch.pk)
    if batch.status != ImportStatus.CHECKED:
        raise ValidationError("该批次已导入或已取消")
    batch.status = ImportStatus.CANCELLED
    batch.content = b""  # nobody will import it: do not keep people's data longer than needed
    batch.save(update_fields=["status", "content"])
    return batch


def roster_import(*, actor, batch: ImportBatch, valid_only: bool = False) -> Report:
    """Re-check the batch's file and import it in one transaction.

    Raises ``RosterRejected`` (nothing written, the batch's report refreshed) when the file has
    errors and ``valid_only`` is false, when nothing valid is left, or when the data changed under
    the import in a way the database refuses.
    """
    try:
        report, applied = _roster_import(actor=actor, batch=batch, valid_only=valid_only)
    except IntegrityError:
        report = Report.from_dict(ImportBatch.objects.get(pk=batch.pk).report)
        report.file_errors = ["数据在检查之后被他人修改，导入未完成，请重新检查后再导入"]
        raise RosterRejected(report) from None
    if not applied:
        raise RosterRejected(report)
    return report


@transaction.atomic
def _roster_import(*, actor, batch: ImportBatch, valid_only: bool) -> tuple[Report, bool]:
    batch = access_object(ImportBatch.objects.select_for_update(), actor, IMPORT_PERM, pk=batch.pk)
    if batch.status != ImportStatus.CHECKED:
        raise ValidationError("该批次已导入或已取消")
    # One import per village at a time: the village row is the lock.
    village = _access_village(actor, Region.objects.select_for_update().get(pk=batch.village_id))
    report, plan, valid_plan = check(actor=actor, village=village, kind=batch.kind, filename=batch.filename,
                                      content=bytes(batch.content))
    nothing_valid = valid_only and report.valid_only.rows == 0
    if report.file_errors or (report.has_errors and not valid_only) or nothing_valid:
        batch.report = report.to_dict()
        batch.save(update_fields=["report"])
        return report, False
    chosen, counts = (valid_plan, report.valid_only) if valid_only else (plan, report.plan)
    if batch.kind == RosterKind.HOUSEHOLDS:
        _write_households(actor=actor, batch=batch, village=village, plan=chosen)
    else:
        _write_grids(actor=actor, batch=batch, village=village, plan=chosen)
    now = timezone.now()
    report.applied = {"mode": "valid_only" if valid_only else "all", "at": now.isoformat(),
                      "plan": asdict(counts)}
    batch.report = report.to_dict()
    batch.status = ImportStatus.APPLIED
    batch.applied_at = now
    batch.mode = "valid_only" if valid_only else "all"
    batch.save(update_fields=["report", "status", "applied_at", "mode"])
    audit_record(actor=actor, action=AuditAction.IMPORT, obj=batch, territory=village,
                 note=_import_note(batch, counts))
    return report, True


def _import_note(batch: ImportBatch, counts: Plan) -> str:
    if batch.kind == RosterKind.GRIDS:
        what = f"网格新建{counts.grids.create}个、更新{counts.grids.update}个"
    else:
        what = (f"住户新建{counts.households.create}户、更新{counts.households.update}户；"
                f"人员新建{counts.persons.create}人、更新{counts.persons.update}人、迁入{counts.persons.move}人")
    mode = "仅导入无误的行" if batch.mode == "valid_only" else "全部导入"
    skipped = f"，跳过{counts.skipped_rows}行" if counts.skipped_rows else ""
    return f"花名册导入 {batch.filename}（{mode}{skipped}）：{what}"[:1000]


# =============================================================================================
# writing


def _write_households(*, actor, batch: ImportBatch, village: Region, plan: HouseholdPlan) -> None:
    note = f"花名册导入（批次#{batch.pk}）"
    today = timezone.localdate()

    new_households = [item.target for item in plan.households if item.existing is None]
    Household.objects.bulk_create(new_households)
    for item in plan.households:
        if item.existing is not None and item.changed:
            item.target.save(update_fields=[*item.changed, "updated_at"])
            if "region" in item.changed:
                # Members the file does not list follow their household too.
                Person.objects.filter(household=item.target).update(
                    region=item.target.region, **territory(village))

    for item in plan.persons:
        item.target.household = item.household.target
    Person.objects.bulk_create([item.target for item in plan.persons if item.existing is None])

    movers = [item for item in plan.persons if item.moved_from is not None or item.joined]
    HouseholdMembership.objects.filter(person_id__in=[item.target.pk for item in movers],
                                       ended_on__isnull=True).update(ended_on=today, reason=f"{note}：迁往其他户")
    relation_changes: dict[str, list[int]] = defaultdict(list)
    for item in plan.persons:
        if item.existing is None or not item.changed:
            continue
        fields = [f for f in item.changed if f != "household"] + ["updated_at"]
        if item.moved_from is not None or item.joined:
            fields += ["household", "region", "county", "town", "village"]
        fields = list(dict.fromkeys(fields))
        item.target.save(update_fields=fields)
        if "relation" in item.changed and item.moved_from is None and not item.joined:
            relation_changes[item.target.relation].append(item.target.pk)
    for relation, person_ids in relation_changes.items():
        HouseholdMembership.objects.filter(person_id__in=person_ids, ended_on__isnull=True).update(relation=relation)
    memberships = []
    for item in plan.persons:
        if item.existing is None:
            reason = note
        elif item.moved_from is not None:
            reason = f"{note}：从户号{item.moved_from.code}迁入"
        elif item.joined:
            reason = f"{note}：迁入"
        else:
            continue
        memberships.append(HouseholdMembership(person=item.target, household=item.household.target,
                                               relation=item.target.relation, started_on=today, reason=reason))
    HouseholdMembership.objects.bulk_create(memberships)

    touched = {item.target.pk for item in plan.households}
    if Household.objects.visible_to(actor, IMPORT_PERM).filter(pk__in=touched).count() != len(touched):
        raise PermissionDenied("the import would put households outside your scope")
    moved_out_of = {item.moved_from.pk for item in plan.persons if item.moved_from is not None}
    announce_household_facts_changed(household_ids=touched | moved_out_of, actor=actor)

    heads = {item.household.code: item.target for item in plan.persons if item.target.relation == Relation.HEAD}
    for item in plan.households:
        # Household.__str__ names the head; known here, so no query per household.
        head = heads.get(item.code)
        label = f"{item.code} {head.name}户" if head else item.code
        if item.existing is None:
            audit_record(actor=actor, action=AuditAction.CREATE, obj=item.target, object_repr=label,
                         after=snapshot(item.target), note=note)
        elif item.changed:
            audit_record(actor=actor, action=AuditAction.UPDATE, obj=item.target, object_repr=label,
                         before=snapshot(item.existing), after=snapshot(item.target), note=note)
    for item in plan.persons:
        if item.existing is None:
            audit_record(actor=actor, action=AuditAction.CREATE, obj=item.target, after=snapshot(item.target),
                         note=note)
        elif item.changed:
            extra = ""
            if item.moved_from is not None:
                extra = f"：迁移，从户号{item.moved_from.code}迁入户号{item.household.code}"
            elif item.joined:
                extra = f"：迁入户号{item.household.code}"
            audit_record(actor=actor, action=AuditAction.UPDATE, obj=item.target, before=snapshot(item.existing),
                         after=snapshot(item.target), note=note + extra)


def _write_grids(*, actor, batch: ImportBatch, village: Region, plan: GridPlan) -> None:
    note = f"花名册导入（批次#{batch.pk}）"
    saved: dict[str, Grid] = {}
    for item in sorted(plan.grids, key=lambda i: i.target.level):
        grid = item.target
        if item.existing is None:
            parent = saved.get(item.parent_code) or (
                Grid.objects.get(code=item.parent_code) if item.parent_code else None)
            grid.parent = parent
            grid.save()
            grid.path = f"{parent.path if parent else '/'}{grid.pk}/"
            grid.save(update_fields=["path"])
            audit_record(actor=actor, action=AuditAction.CREATE, obj=grid, after=snapshot(grid), note=note)
        elif item.changed:
            grid.save(update_fields=item.changed)
            audit_record(actor=actor, action=AuditAction.UPDATE, obj=grid, before=snapshot(item.existing),
                         after=snapshot(grid), note=note)
        saved[grid.code] = grid
    touched = {item.target.pk for item in plan.grids}
    if Grid.objects.visible_to(actor, IMPORT_PERM).filter(pk__in=touched).count() != len(touched):
        raise PermissionDenied("the import would put grids outside your scope")


# =============================================================================================
# export


@dataclass
class ExportFile:
    filename: str
    content: bytes
    content_type: str
    masked: bool
    rows: int


def _household_rows(households, revealable: set[int]) -> tuple[list[list], bool]:
    rows, masked = [], False
    for household in households:
        for person in household.export_members:
            clear = person.pk in revealable
            masked = masked or not clear
            rows.append({
                "household_code": household.code,
                "address": household.address,
                "grid": household.grid.code if household.grid_id else "",
                "group": household.region.code,
                "annual_income": household.annual_income,
                "poverty_status": POVERTY_EXPORT.get(household.poverty_status, ""),
                "peaceful_years": parsing.format_years(household.peaceful_family_years),
                "name": person.name,
                "id_number": person.id_number if clear else mask_id_number(person.id_number),
                "relation": relation_word(person.relation, person.sex),
                "phone": person.phone if clear else mask_phone(person.phone),
                "left_behind": LEFT_BEHIND_EXPORT.get(person.left_behind, ""),
                "disability_grade": DISABILITY_EXPORT.get(person.disability_grade, ""),
                "released_on": person.released_on,
                "village_code": household.village.code if household.village_id else "",
            })
    return rows, masked


def _grid_rows(grids, revealable: set[int]) -> tuple[list[dict], bool]:
    rows, masked = [], False

    def number(person):
        nonlocal masked
        if person is None:
            return ""
        if person.pk in revealable:
            return person.id_number
        masked = True
        return mask_id_number(person.id_number)

    for grid in grids:
        rows.append({
            "code": grid.code, "name": grid.name, "level": GRID_LEVEL_EXPORT.get(grid.level, grid.level),
            "parent_code": grid.parent.code if grid.parent_id else "",
            "group": grid.region.code,
            "head_id": number(grid.head), "head_name": grid.head.name if grid.head_id else "",
            "worker_id": number(grid.worker), "worker_name": grid.worker.name if grid.worker_id else "",
            "village_code": grid.village.code if grid.village_id else "",
        })
    return rows, masked


def roster_export(*, actor, region: Region, kind: str, fmt: str) -> ExportFile:
    """Households and persons, or grids, under a region, in the import layout. Audited."""
    if kind not in RosterKind.values or fmt not in FORMATS:
        raise ValidationError("导出类型或格式不正确")
    region = access_object(Region.objects.all(), actor, EXPORT_PERM, pk=region.pk)
    if region.level > RegionLevel.VILLAGE:
        raise ValidationError("请导出整个村（社区）、镇（街道）或县")
    if kind == RosterKind.HOUSEHOLDS:
        households = selectors.export_households(user=actor, region=region)
        ids = [p.pk for h in households for p in h.export_members]
        rows, masked = _household_rows(households, selectors.revealable_person_ids(user=actor, person_ids=ids))
        summary = f"{sum(1 for h in households if h.export_members)}户{len(rows)}人"
    else:
        grids = selectors.export_grids(user=actor, region=region)
        ids = [pid for g in grids for pid in (g.head_id, g.worker_id)]
        rows, masked = _grid_rows(grids, selectors.revealable_person_ids(user=actor, person_ids=ids))
        summary = f"{len(rows)}个网格"
    now = timezone.localtime()
    title = f"{region.name}{KIND_TITLES[kind]}（导出时间：{now:%Y-%m-%d %H:%M}，导出人：{actor}）"
    if masked:
        title += "　身份证号、电话已打码，本文件不能用于导入"
    content = writing.write_table(fmt, title=title, columns=LAYOUTS[kind], rows=rows)
    audit_record(actor=actor, action=AuditAction.EXPORT, obj=region,
                 note=f"导出{KIND_TITLES[kind]}（{fmt}，{summary}，身份证号{'已打码' if masked else '未打码'}）")
    filename = f"{region.name}{KIND_TITLES[kind]}-{now:%Y%m%d}.{fmt}"
    return ExportFile(filename=filename, content=content, content_type=writing.CONTENT_TYPES[fmt],
                      masked=masked, rows=len(rows))


def roster_template(*, kind: str, fmt: str) -> ExportFile:
    """An empty roster in the import layout (title and header rows only)."""
    if kind not in RosterKind.values or fmt not in FORMATS:
        raise ValidationError("导出类型或格式不正确")
    title = f"（村名）{KIND_TITLES[kind]}（第一行是标题，可删除；第二行是表头，请勿改动）"
    content = writing.write_table(fmt, title=title, columns=LAYOUTS[kind], rows=[])
    return ExportFile(filename=f"{KIND_TITLES[kind]}模板.{fmt}", content=content,
                      content_type=writing.CONTENT_TYPES[fmt], masked=False, rows=0)


# =============================================================================================
# retention of unconfirmed uploads

SETTINGS_PERM = "roster.change_rostersettings"
PURGE_BATCH = 500


def retention_days(county_id: int | None) -> int:
    row = RosterSettings.objects.filter(county_id=county_id).first() if county_id else None
    return row.unconfirmed_retention_days if row else DEFAULT_UNCONFIRMED_RETENTION_DAYS


@transaction.atomic
def roster_retention_set(*, actor, county: Region, days: int) -> RosterSettings:
    """Set how many days the county keeps an upload nobody confirmed. Audited.

    ``actor=None`` is the server's operator (``gongzhi purge_rosters --set-days``); a user needs
    ``roster.change_rostersettings`` over the county.
    """
    if actor is not None:
        county = access_object(Region.objects.all(), actor, SETTINGS_PERM, pk=county.pk)
    if county.level != RegionLevel.COUNTY:
        raise ValidationError("保留期限按县设置")
    row = RosterSettings.objects.select_for_update().filter(county=county).first()
    before = snapshot(row) if row else None
    row = row or RosterSettings(county=county)
    row.unconfirmed_retention_days = days
    row.full_clean()
    row.save()
    audit_record(actor=actor, action=AuditAction.UPDATE if before else AuditAction.CREATE, obj=row,
                 object_repr=f"{county.name}花名册设置", territory=county, before=before, after=snapshot(row),
                 note=f"未确认的花名册保留{days}天")
    return row


def _due_batches(now):
    """Unconfirmed (or cancelled) uploads older than their county's retention, not yet purged."""
    custom = dict(RosterSettings.objects.values_list("county_id", "unconfirmed_retention_days"))
    default_cutoff = now - dt.timedelta(days=DEFAULT_UNCONFIRMED_RETENTION_DAYS)
    due = Q(created_at__lt=default_cutoff) & (Q(county_id_cache__isnull=True) | ~Q(county_id_cache__in=list(custom)))
    for county_id, days in custom.items():
        due |= Q(county_id_cache=county_id, created_at__lt=now - dt.timedelta(days=days))
    return ImportBatch.objects.filter(PURGE_CONDITION, due)


PURGE_CONDITION = Q(purged_at__isnull=True, status__in=[ImportStatus.CHECKED, ImportStatus.CANCELLED])


def _purged_report(report: dict, days: int) -> dict:
    """What stays of a purged batch's report: its counts, never a row (names, ID numbers, 户号)."""
    kept = {key: report[key] for key in ("kind", "filename", "village_id", "village_name", "sheet", "header_row",
                                         "rows_read") if key in report}
    kept["file_errors"] = [f"这份花名册上传后{days}天内未确认导入，文件和检查明细已按规定删除；如需导入，请重新上传。"]
    return kept


def roster_purge_unconfirmed(now: dt.datetime | None = None) -> int:
    """Delete the file and the report's rows of every upload left unconfirmed past its county's
    retention (default 7 days). Returns how many batches this worker purged.

    The sweep's shape (as ``cases.tasks``): find the due rows through a partial index, claim each
    with a conditional UPDATE of its marker ``purged_at``; only the worker whose UPDATE changed
    the row scrubs it and writes the audit row, in the same transaction. Several workers may run
    at once; a batch is purged (and audited) exactly once.
    """
    now = now or timezone.now()
    done = 0
    for pk in list(_due_batches(now).order_by("created_at").values_list("pk", flat=True)[:PURGE_BATCH]):
        with transaction.atomic():
            if not ImportBatch.objects.filter(PURGE_CONDITION, pk=pk).update(purged_at=now):
                continue
            batch = ImportBatch.objects.select_related("village").get(pk=pk)
            days = retention_days(batch.county_id_cache)
            was = batch.get_status_display()
            if batch.status == ImportStatus.CHECKED:
                batch.status = ImportStatus.EXPIRED
            batch.content = b""
            batch.report = _purged_report(batch.report or {}, days)
            batch.save(update_fields=["status", "content", "report"])
            audit_record(actor=None, action=AuditAction.DELETE, obj=batch, territory=batch.village,
                         note=f"花名册 {batch.filename}（{was}）超过{days}天未确认导入：删除文件及检查明细"[:1000])
            done += 1
    return done


__all__ = [
    "Counts", "ExportFile", "RosterFileError", "RosterRejected", "roster_batch_cancel",
    "roster_batch_create", "roster_dry_run", "roster_export", "roster_import", "roster_purge_unconfirmed",
    "roster_retention_set", "roster_template",
]
