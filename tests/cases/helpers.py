"""Small drivers for the cases tests (they call the real services)."""
from __future__ import annotations

from gongzhi.cases import services
from gongzhi.cases.choices import Channel
from gongzhi.cases.models import Case

from .conftest import category


def register(cw, *, by="grid_worker_a1_1", code="opinion-village-affairs", grid="A1-1", region=None,
             requester="A1-1", title="村道路灯不亮", description="五一村一组村道路灯坏了两周", **extra) -> Case:
    kwargs = dict(actor=cw.user(by), category=category(code), title=title, description=description,
                  channel=extra.pop("channel", Channel.GRID_PATROL))
    if grid:
        kwargs["grid"] = cw.grids[grid]
    if region:
        kwargs["region"] = cw.regions[region]
    if requester:
        kwargs["requester"] = cw.persons[requester]
    kwargs.update(extra)
    return services.case_register(**kwargs)


def to_in_progress_at_village(cw, case, *, by="village_secretary_a1") -> Case:
    actor = cw.user(by)
    case = services.case_accept(actor=actor, case=case)
    case = services.case_assign(actor=actor, case=case, region=cw.regions["A1"])
    return services.case_sign(actor=actor, case=case)


def through_answer(cw, case, *, approver="village_secretary_a1", dispatcher="village_secretary_a1",
                   satisfaction="satisfied") -> Case:
    handler = case.handler
    case = services.case_report_result(actor=handler, case=case, result="已修好路灯")
    case = services.case_approve(actor=cw.user(approver), case=case)
    case = services.case_reply(actor=cw.user(dispatcher), case=case, answer="路灯已修复")
    return services.case_record_satisfaction(actor=cw.user(dispatcher), case=case, satisfaction=satisfaction)


def kinds(case) -> list[str]:
    return list(case.events.order_by("at", "id").values_list("kind", flat=True))
