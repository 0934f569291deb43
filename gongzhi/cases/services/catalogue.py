"""The county's catalogue of matters (事项目录) and time limits."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from gongzhi.core.audit import AuditAction, audit_record, snapshot
from gongzhi.core.scoping import holds_county, require_perm
from gongzhi.registry.models import Region

from ..models import CaseCategory

# ---------------------------------------------------------------------------------------------
# catalogue


CATEGORY_EDITABLE = {
    "name", "description", "ledger", "kind", "default_level", "responsible_department", "suggested_department",
    "acceptance_days", "response_days", "resolution_days", "is_petition", "is_dispute", "requires_instruction",
    "instruction_level", "active", "sort_order",
}


@transaction.atomic
def category_save(*, actor, county: Region, code: str, **fields) -> CaseCategory:
    """Create or change the county's own category ``code`` (overriding the default of that code).

    Needs ``cases.change_casecategory`` over the whole county.
    """
    require_perm(actor, "cases.change_casecategory")
    if county.level != 1:
        raise ValidationError({"county": "目录属于县（区）"})
    if not holds_county(actor, "cases.change_casecategory", county.pk):
        raise PermissionDenied("只有县级管理员可以修改事项目录")
    unknown = set(fields) - CATEGORY_EDITABLE
    if unknown:
        raise ValidationError(f"不能修改这些字段：{', '.join(sorted(unknown))}")
    department = fields.get("responsible_department")
    if department is not None and department.county_id != county.pk:
        raise ValidationError({"responsible_department": "责任部门不属于本县"})
    category = CaseCategory.objects.select_for_update().filter(county=county, code=code).first()
    created = category is None
    if created:
        template = CaseCategory.objects.filter(county__isnull=True, code=code).first()
        category = CaseCategory(county=county, code=code)
        if template is not None:
            for name in CATEGORY_EDITABLE:
                setattr(category, name, getattr(template, name))
    before = None if created else snapshot(category)
    for name, value in fields.items():
        setattr(category, name, value)
    category.full_clean()
    category.save()
    audit_record(actor=actor, action=AuditAction.CREATE if created else AuditAction.UPDATE, obj=category,
                 before=before, after=snapshot(category), territory=county)
    return category


def category_for(*, county_id: int | None, code: str) -> CaseCategory | None:
    return CaseCategory.objects.for_county(county_id).filter(code=code, active=True).first()
