from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from gongzhi.core.scoping import require_perm

from .models import AuditLog


@login_required
def audit_list(request):
    """The audit trail, for auditors, limited to their scope."""
    require_perm(request.user, "core.view_auditlog")
    rows = AuditLog.objects_scoped.visible_to(request.user, "core.view_auditlog")
    object_type = request.GET.get("type", "").strip()
    if object_type:
        rows = rows.filter(object_type=object_type)
    actor = request.GET.get("actor", "").strip()
    if actor:
        rows = rows.filter(actor_username=actor)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "core/audit_list.html", {"page": page, "type": object_type, "actor": actor})
