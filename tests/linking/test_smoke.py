import datetime as dt

from django.utils import timezone

from gongzhi.linking import services
from gongzhi.linking.models import NeedStatus, PairingStatus


def test_pairing_need_match_project(linked):
    assert linked.pairing.status == PairingStatus.ACTIVE
    res = services.resource_add(actor=linked.lead, pairing=linked.pairing, kind="experts", name="政策专家服务队",
                                capacity=10, unit="次", use_form="serve")
    need = services.need_raise(actor=linked.partner, pairing=linked.pairing, title="老人政策咨询", kind="service",
                               grade="core", quantity=4, unit="次", asked_by="二组老人")
    services.need_check(actor=linked.partner, need=need, feasibility="feasible", note="可每月上门一次")
    ranked = services.candidates_for(actor=linked.partner, need=need)
    assert ranked[0].resource == res
    project = services.project_confirm(actor=linked.partner, need=need, resource=res,
                                       tasks=[{"title": "上门咨询", "assignee_name": "张三",
                                               "due_on": timezone.localdate() + dt.timedelta(days=30)}])
    need.refresh_from_db(); res.refresh_from_db()
    assert need.status == NeedStatus.MATCHED and res.committed == 4 and project.tasks.count() == 1
