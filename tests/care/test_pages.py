"""The care pages render for the people who use them and drive the services."""
import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from gongzhi.care import services
from gongzhi.care.models import ArchiveChange, AssignmentProposal, ClassRule, HouseholdClass, ReceptionSuggestion
from gongzhi.registry import services as registry_services
from gongzhi.registry.models import ContactAssignment


@pytest.fixture
def classified(care):
    registry_services.person_update(actor=care.system, person=care.persons["A1-1-spouse"], left_behind="elderly")
    services.households_classify(actor=None, region=care.regions["C"])
    return care


def test_the_village_page_counts_colours_per_grid(classified, login, django_assert_max_num_queries):
    client = login(classified.user("village_secretary_a1"))
    with django_assert_max_num_queries(30):
        page = client.get(reverse("care:village", kwargs={"pk": classified.regions["A1"].pk}))
    assert page.status_code == 200
    total = page.context["counts"]["total"]
    assert sum(total.values()) == HouseholdClass.objects.filter(village_id=classified.regions["A1"].pk).count()
    html = page.content.decode()
    assert "连心户" in html and "各网格分类" in html  # translated to Chinese


def test_the_class_list_shows_reasons(classified, login):
    client = login(classified.user("grid_worker_a1_1"))
    page = client.get(reverse("care:classes", kwargs={"pk": classified.regions["A1"].pk}), {"colour": "red"})
    assert "连心户：留守老人 刘某" in page.content.decode()
    assert [r.household_id for r in page.context["rows"]] == [classified.households["A1-1"].pk]


def test_the_household_timeline_page(classified, login):
    household = classified.households["A1-1"]
    services.contact_record(actor=classified.user("three_line_a1"), household=household, method="phone", heard="腿疼")
    page = login(classified.user("village_secretary_a1")).get(reverse("care:household", kwargs={"pk": household.pk}))
    html = page.content.decode()
    assert page.status_code == 200 and "一户一档" in html and "腿疼" in html and "李强" in html


def test_the_secretary_proposes_and_confirms_from_the_pages(classified, login):
    client = login(classified.user("village_secretary_a1"))
    village = classified.regions["A1"]
    response = client.post(reverse("care:proposal_create", kwargs={"pk": village.pk}))
    proposal = AssignmentProposal.objects.get()
    assert response["Location"] == reverse("care:proposal", kwargs={"pk": proposal.pk})
    items = list(proposal.items.all())
    data = {f"item-{i.pk}": str(i.person_id or "") for i in items}
    response = client.post(reverse("care:proposal", kwargs={"pk": proposal.pk}), data)
    assert response.status_code == 302
    assert ContactAssignment.objects.filter(ended_on__isnull=True, village_id=village.pk).count() == \
        1 + sum(1 for i in items if i.person_id)


def test_overrides_and_rule_edits_from_the_pages(classified, login):
    household = classified.households["A1-3"]
    client = login(classified.user("village_secretary_a1"))
    client.post(reverse("care:override", kwargs={"pk": household.pk}),
                {"colour": "yellow", "reason": "家中突发变故", "expires_on": str(timezone.localdate() + dt.timedelta(days=60))})
    assert HouseholdClass.objects.get(pk=household.pk).effective_colour == "yellow"
    county = login(classified.user("county_secretary"))
    response = county.post(reverse("care:rules"), {"colour": "red", "group": 9, "kind": "poverty_status",
                                                   "params": '{"statuses": ["lifted"]}', "enabled": "on"})
    assert response.status_code == 302
    assert ClassRule.objects.filter(county=classified.regions["C"], group=9, kind="poverty_status").exists()


def test_changes_are_confirmed_from_the_village_page(classified, login):
    change = services.archive_change_record(actor=classified.user("grid_worker_a1_1"),
                                           household=classified.households["A1-1"], kind="disability",
                                           person=classified.persons["A1-1"], payload={"grade": 4})
    client = login(classified.user("village_secretary_a1"))
    page = client.get(reverse("care:changes", kwargs={"pk": classified.regions["A1"].pk}))
    assert change in page.context["changes"]
    client.post(reverse("care:change_decide", kwargs={"pk": change.pk}), {"decision": "confirm"})
    assert ArchiveChange.objects.get(pk=change.pk).status == "confirmed"


def test_a_reception_day_from_the_pages(classified, login):
    client = login(classified.user("village_secretary_a1"))
    response = client.post(reverse("care:reception_list"), {"region": classified.regions["A1"].pk, "station": "五一村联络站"})
    assert response.status_code == 302
    session_url = response["Location"]
    client.post(session_url, {"deputy": classified.deputy.pk, "content": "修建村口便民桥", "voter_name": "王某"})
    assert ReceptionSuggestion.objects.get().content == "修建村口便民桥"
    page = client.get(reverse("care:reception_list"))
    assert page.context["tally"]["suggestions"] == 1


def test_other_pages_render(classified, login):
    client = login(classified.user("village_secretary_a1"))
    village = classified.regions["A1"].pk
    for name in ("coverage", "watch", "completion"):
        assert client.get(reverse(f"care:{name}", kwargs={"pk": village})).status_code == 200
    for name in ("home", "load", "alerts", "rules", "reception_list", "patrol_new", "contact_new"):
        assert client.get(reverse(f"care:{name}")).status_code == 200
