"""Every figure is a link to the records behind it: ``{% figure a "case_on_time_rate" period %}``."""
from django import template
from django.utils.html import format_html

from gongzhi.assessment import indicators

register = template.Library()


@register.simple_tag
def figure(assessed, code, period):
    fig = assessed.figures.get(code)
    if fig is None:
        return "—"
    url = indicators.BY_CODE[code].provenance_url(assessed.kind, assessed.subject_id, period)
    return format_html('<a href="{}">{}</a>', url, fig.display())


@register.simple_tag
def cell(value):
    """A bulletin cell: text, with its link when it has one."""
    if value.get("url"):
        return format_html('<a href="{}">{}</a>', value["url"], value["text"])
    return value["text"]
