from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse

from .forms import AuditFilterForm, object_type_suggestions
from .pagination import paginate
from .scoping import require_perm
from .selectors import VIEW_AUDITLOG, audit_log_list

# Audit rows about these objects link to the object's page.
OBJECT_PAGES = {
    "registry.region": "registry:region",
    "registry.grid": "registry:grid",
    "registry.household": "registry:household",
    "registry.person": "registry:person",
}


def _changes(row) -> list[tuple[str, object, object]]:
    before, after = row.before or {}, row.after or {}
    return [(name, before.get(name), after.get(name)) for name in row.changed_fields if name != "updated_at"]


@login_required
def audit_list(request):
    """The audit trail, for auditors, limited to their scope; filterable and paginated."""
    require_perm(request.user, VIEW_AUDITLOG)
    form = AuditFilterForm(request.GET or None)
    form.is_valid()  # a filter that does not validate is left out; the others still apply
    data = getattr(form, "cleaned_data", {})
    rows = audit_log_list(user=request.user, object_type=data.get("type", ""), object_id=data.get("id", ""),
                          actor=data.get("actor", ""), action=data.get("action", ""),
                          date_from=data.get("since"), date_to=data.get("until"))
    page = paginate(request, rows)
    for row in page:
        name = OBJECT_PAGES.get(row.object_type)
        row.url = reverse(name, args=[row.object_id]) if name and row.object_id.isdigit() else ""
        row.changes = _changes(row)
    return render(request, "core/audit_list.html", {"page": page, "form": form,
                                                    "object_types": object_type_suggestions()})
