"""A need raised from a resident's case, matched by the agency's liaison (who may not read cases):
the match goes through, the case is not written on by someone who cannot read it, and the village
liaison who raised the need is asked to tell the resident."""
from __future__ import annotations

from gongzhi.cases.models import CaseEvent
from gongzhi.cases.notifications import notification_list
from gongzhi.linking import services
from gongzhi.linking.models import NeedStatus


def test_agency_liaison_matches_a_case_need(linked, world):
    from gongzhi.cases.catalogue import install_default_catalogue
    from gongzhi.cases.models import CaseCategory, TimeLimitDefault
    from gongzhi.intake.channel import intake_actor
    from gongzhi.intake.services import IntakeInput, intake_submit

    install_default_catalogue(CaseCategory, TimeLimitDefault)
    case = intake_submit(actor=intake_actor(territory=world.regions["A1"]), channel="web", scope="web",
                         data=IntakeInput(description="希望有人给老人讲讲医保报销", title="医保政策咨询",
                                          region=world.regions["A1"])).case
    need = services.need_raise(actor=linked.partner, pairing=linked.pairing, title="医保政策宣讲", kind="experts",
                               grade="important", source="case", case=case)
    services.need_check(actor=linked.partner, need=need, feasibility="feasible", note="可安排")
    resource = services.resource_add(actor=linked.lead, pairing=linked.pairing, kind="experts", name="医保政策专家",
                                     capacity=5, unit="次", use_form="serve")
    project = services.project_confirm(actor=linked.lead, need=need, resource=resource)
    need.refresh_from_db()
    assert project.pk and need.status == NeedStatus.MATCHED
    assert CaseEvent.objects.filter(case=case, kind="pairing_need").count() == 1
    assert not CaseEvent.objects.filter(case=case, kind="pairing_project").exists()
    asked = [n.text for n in notification_list(user=linked.partner)]
    assert any("请在事项" in text and "医保政策宣讲" in text for text in asked)
