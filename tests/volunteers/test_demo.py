"""The demo generator on the test county: the showcase's certified lawyer served, the uncertified
volunteer was refused (visibly, audited), points earned and redeemed, the ledger balanced."""
from __future__ import annotations

from gongzhi.core.models import AuditLog
from gongzhi.volunteers.demo import generate_volunteers_year
from gongzhi.volunteers.models import SignUp, SignUpStatus


def test_the_demo_year_and_its_showcase(world):
    result = generate_volunteers_year(seed=7)
    show = result["showcase"]
    assert show["served"] and show["points_earned"] == 50  # 2.5 hours of 法律咨询 at 20 an hour
    assert show["redeemed"] == 20 and show["balance"] == 30
    assert show["refused_status"] == SignUpStatus.REFUSED and "法律中级及以上资质" in show["refusal"]
    assert AuditLog.objects.filter(object_type="volunteers.signup", object_id=str(show["refused_signup"]),
                                   note__startswith="未安排").exists()
    assert result["ledger"]["balanced"] and result["ledger"]["issued"] > 0
    assert result["volunteers"] >= 4 and SignUp.objects.filter(status=SignUpStatus.CONFIRMED).count() == result["confirmed"]
    assert generate_volunteers_year(seed=7) == {"skipped": "the county already has volunteers"}
