"""``{% page_url page 3 %}``: the current URL with one page parameter changed (see core/pagination.py)."""
from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def page_url(context, page, number) -> str:
    request = context["request"]
    query = request.GET.copy()
    query[getattr(page, "param", "page")] = number
    return "?" + query.urlencode()
