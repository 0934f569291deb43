"""Recipients and in-app notifications for a *batch* of cases, in a constant number of queries.

The deadline sweep warns up to 500 cases per kind and pass. Asking ``notifications`` case by case
(``unit_user_ids``, ``territory_user_ids``, ``conflicted_user_ids``, ``notify_users``) costs about
eight queries per case; this module answers the same questions for the whole batch at once —
one query per permission for the role holders, two for the recusal lists, one INSERT for all the
notifications, one for the e-mail addresses — and gives exactly the same recipients: the unit's
handlers plus the case's handler, or the holders of a permission over a region, less everyone the
case complains about (tests compare the two paths).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from django.contrib.auth import get_user_model

from gongzhi.accounts.models import RoleAssignment
from gongzhi.core.bulk_insert import insert_many

from . import notifications as notify
from .models import Case, Notification


class Batch:
    def __init__(self, cases: Iterable[Case]):
        self.cases = list(cases)
        self._holders: dict[str, dict[tuple[str, int], set[int]]] = {}
        self._conflicted: dict[int, set[int]] | None = None
        self.pending: list[tuple[Case, str, set[int], dict]] = []

    # -- who ------------------------------------------------------------------------------------

    def _holder_map(self, perm: str, *, regions=(), grids=(), departments=()) -> dict[tuple[str, int], set[int]]:
        """(``"region"|"grid"|"department"``, id) → users holding ``perm`` directly on it."""
        cache = self._holders.setdefault(perm, {})
        wanted = ([("region", r) for r in regions if r] + [("grid", g) for g in grids if g]
                  + [("department", d) for d in departments if d])
        missing = [key for key in wanted if key not in cache]
        if missing:
            by_kind = defaultdict(set)
            for kind, pk in missing:
                by_kind[kind].add(pk)
                cache[(kind, pk)] = set()
            app_label, codename = perm.split(".")
            qs = RoleAssignment.objects.filter(
                is_active=True, user__is_active=True, role__permissions__content_type__app_label=app_label,
                role__permissions__codename=codename)
            from django.db.models import Q

            scope = Q(pk__in=[])
            if by_kind["region"]:
                scope |= Q(region_id__in=sorted(by_kind["region"]))
            if by_kind["grid"]:
                scope |= Q(grid_id__in=sorted(by_kind["grid"]))
            if by_kind["department"]:
                scope |= Q(department_id__in=sorted(by_kind["department"]))
            for user_id, region_id, grid_id, department_id in qs.filter(scope).values_list(
                    "user_id", "region_id", "grid_id", "department_id").distinct():
                for key in (("region", region_id), ("grid", grid_id), ("department", department_id)):
                    if key in cache:
                        cache[key].add(user_id)
        return cache

    def conflicted(self, case: Case) -> set[int]:
        """As ``notifications.conflicted_user_ids``, for every case of the batch in two queries."""
        if self._conflicted is None:
            persons = {c.complained_person_id for c in self.cases if c.complained_person_id}
            departments = {c.complained_department_id for c in self.cases if c.complained_department_id}
            by_person, by_department = defaultdict(set), defaultdict(set)
            if persons:
                for pk, person_id in get_user_model().objects.filter(person_id__in=persons).values_list(
                        "pk", "person_id"):
                    by_person[person_id].add(pk)
            if departments:
                for user_id, department_id in RoleAssignment.objects.filter(
                        department_id__in=departments, is_active=True).values_list("user_id", "department_id"):
                    by_department[department_id].add(user_id)
            self._conflicted = {
                c.pk: by_person.get(c.complained_person_id, set()) | by_department.get(c.complained_department_id,
                                                                                       set())
                for c in self.cases}
        return self._conflicted.get(case.pk, set())

    def prefetch(self, perm: str, *, regions=(), units: bool = False) -> None:
        """Load, in one query, the holders of ``perm`` over ``regions`` (and the cases' units)."""
        grids, unit_regions, departments = set(), set(), set()
        if units:
            for c in self.cases:
                grids.add(c.assignee_grid_id)
                unit_regions.add(c.assignee_region_id)
                departments.add(c.assignee_department_id)
        self._holder_map(perm, regions=set(regions) | unit_regions, grids=grids, departments=departments)

    def unit_users(self, case: Case) -> set[int]:
        """As ``notifications.unit_user_ids(case)``."""
        holders = self._holder_map("cases.handle_case", regions=[case.assignee_region_id],
                                   grids=[case.assignee_grid_id], departments=[case.assignee_department_id])
        ids = {case.handler_id} if case.handler_id else set()
        for key in (("grid", case.assignee_grid_id), ("region", case.assignee_region_id),
                    ("department", case.assignee_department_id)):
            ids |= holders.get(key, set())
        return ids - self.conflicted(case)

    def territory_users(self, case: Case, perm: str, region_id: int | None) -> set[int]:
        """As ``notifications.territory_user_ids(case, perm, regions=[region_id])``."""
        if not region_id:
            return set()
        return set(self._holder_map(perm, regions=[region_id]).get(("region", region_id), set())) - self.conflicted(
            case)

    # -- what -----------------------------------------------------------------------------------

    def add(self, case: Case, kind: str, user_ids: Iterable[int], **extra) -> None:
        self.pending.append((case, kind, set(user_ids), extra))

    def send(self) -> int:
        """As ``notifications.notify_users`` for every pending message: one INSERT, one address query,
        the e-mails after commit. Returns how many in-app notifications were written."""
        rows, mails = [], []
        for case, kind, user_ids, extra in self.pending:
            ids = sorted(user_ids - self.conflicted(case))
            if not ids:
                continue
            body = notify.staff_text(kind, case, **extra)
            rows += [{"user_id": uid, "case_id": case.pk, "kind": kind, "text": body, "read_at": None}
                     for uid in ids]
            mails.append((case, body, ids))
        self.pending = []
        if not rows:
            return 0
        insert_many(Notification, rows)
        everyone = {uid for _case, _body, ids in mails for uid in ids}
        emails = dict(get_user_model().objects.filter(pk__in=everyone).exclude(email="").values_list("pk", "email"))
        if emails:
            for case, body, ids in mails:
                for uid in ids:
                    if uid in emails:
                        notify._send_later("email", emails[uid], body, subject=f"【{notify.SITE_NAME}】{case.number}")
        return len(rows)
