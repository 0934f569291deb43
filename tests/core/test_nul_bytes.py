import pytest


@pytest.mark.parametrize("url", ["/api/persons/?q=%00", "/api/households/?code=a%00b"])
def test_nul_in_an_api_filter_is_a_structured_400(world, api, url):
    response = api("town_secretary_a").get(url)
    assert response.status_code == 400
    assert "空字符" in response.json()["error"]["message"]


def test_nul_in_a_json_body_is_refused_before_anything_is_written(world, api):
    from gongzhi.registry.models import Household

    before = Household.objects.count()
    response = api("village_secretary_a1").post(
        "/api/households/", data='{"code": "X\\u0000", "address": "x", "region": 1}', content_type="application/json")
    assert response.status_code == 400
    assert Household.objects.count() == before


def test_nul_in_a_page_search_is_a_chinese_400(world, login):
    response = login(world.user("town_secretary_a")).get("/registry/search/?q=%E5%BC%A0%00")
    assert response.status_code == 400
    assert "空字符" in response.content.decode()
