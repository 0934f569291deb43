"""Token and session authentication, and GET /api/me/."""
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from gongzhi.accounts import api as accounts_api
from gongzhi.accounts.services import login_unlock
from tests.otp import code, totp_device
from tests.world import PASSWORD

from .helpers import assert_error, url


def test_the_token_endpoint_gives_a_token_that_authenticates(api, world):
    # the grid worker may reveal phones: the token needs the second factor's code too
    device = totp_device(world.user("grid_worker_a1_1"))
    response = APIClient().post(url("api-token"), {"username": "grid_worker_a1_1", "password": PASSWORD,
                                                   "otp": code(device)}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["username"] == "grid_worker_a1_1" and body["user_id"] == world.user("grid_worker_a1_1").pk
    assert Token.objects.get(user=world.user("grid_worker_a1_1")).key == body["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert client.get(url("api-me")).json()["user"]["username"] == "grid_worker_a1_1"
    # The same token again; a stale token sent along does not get in the way.
    stale = APIClient()
    stale.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    again = stale.post(url("api-token"), {"username": "grid_worker_a1_1", "password": PASSWORD,
                                          "otp": code(device)}, format="json")
    assert again.json()["token"] == body["token"]


def test_wrong_password_is_a_structured_400_and_repeated_failures_are_throttled(world):
    client = APIClient()
    bad = {"username": "department_handler", "password": "wrong-password"}
    for _ in range(accounts_api.MAX_FAILURES):
        assert_error(client.post(url("api-token"), bad, format="json"), 400, "invalid")
    assert_error(client.post(url("api-token"), bad, format="json"), 429, "throttled")
    # even the right password waits for the window to pass
    good = {"username": "department_handler", "password": PASSWORD}
    assert_error(client.post(url("api-token"), good, format="json"), 429)
    # until an administrator unlocks (or the window passes)
    login_unlock(actor=world.user("sysadmin"), username="department_handler")
    assert client.post(url("api-token"), good, format="json").status_code == 200


def test_an_invalid_token_is_401(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0000000000000000000000000000000000000000")
    assert_error(client.get(url("household-list")), 401, "authentication_failed")


def test_session_authentication_works_and_needs_csrf_for_writes(world):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.user("grid_worker_a1_1"))
    response = client.get(url("household-list"))
    assert [r["code"] for r in response.json()["results"]] == ["H-A1-1"]
    refused = client.patch(url("household-detail", pk=world.households["A1-1"].pk), {"notes": "x"}, format="json")
    assert_error(refused, 403)
    assert "CSRF" in refused.json()["error"]["message"]


def test_me_lists_roles_scopes_and_permissions(api, world):
    body = api("town_secretary_a").get(url("api-me")).json()
    assert body["user"] == {"id": world.user("town_secretary_a").pk, "username": "town_secretary_a",
                            "display_name": "城关镇书记", "person": None, "is_superuser": False}
    assert body["roles"] == [{"code": "town_secretary", "name": "镇（街道）党委书记",
                              "scope": {"kind": "region", "id": world.regions["A"].pk, "name": "城关镇"}}]
    assert "registry.reveal_person" in body["permissions"] and "core.view_auditlog" not in body["permissions"]
    three_line = api("three_line_a1").get(url("api-me")).json()
    assert three_line["user"]["person"] == world.persons["party_member"].pk
    assert three_line["roles"][0]["scope"] == {"kind": "contacts", "id": None,
                                               "name": three_line["roles"][0]["scope"]["name"]}
    assert_error(api().get(url("api-me")), 401)
