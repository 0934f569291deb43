"""Template helpers for registry pages: masked values with their reveal button, breadcrumbs."""
from django import template

from gongzhi.core.masking import mask_field

register = template.Library()


@register.filter
def masked(value, field):
    """``{{ person.phone|masked:"phone" }}`` → 138****5678."""
    return mask_field(field, value)


@register.inclusion_tag("registry/_sensitive.html", takes_context=True)
def sensitive(context, person, field):
    """A masked ID number or phone with its "show" button.

    Reads from the page context: ``revealable`` (ids of persons the viewer may reveal),
    ``revealed`` ({(person id, field): value} after a reveal without htmx) and ``reveal_back``
    (which page a non-htmx reveal re-renders: "household" or "person").
    """
    raw = getattr(person, field)
    value = context.get("revealed", {}).get((person.pk, field))
    return {
        "person": person,
        "field": field,
        "masked": mask_field(field, raw),
        "value": value,
        "can_reveal": bool(raw) and value is None and person.pk in context.get("revealable", ()),
        "back": context.get("reveal_back", "person"),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("registry/_trail.html")
def trail(crumbs, current_is_last=True):
    """Breadcrumb of regions (``selectors.region_trail``), linking the ones the viewer may open."""
    return {"crumbs": crumbs, "current_is_last": current_is_last}
