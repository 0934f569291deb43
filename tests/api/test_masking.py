"""ID numbers and phones leave the API masked, everywhere: lists, details, nested members, and
every other endpoint. The clear values of the world's people never appear in any response body."""
from django.urls import get_resolver

from .helpers import results, url


def test_person_list_and_detail_are_masked(api, world):
    person = world.persons["A1-1"]
    rows = results(api("village_secretary_a1").get(url("person-list"), {"household": world.households["A1-1"].pk}))
    head = next(r for r in rows if r["id"] == person.pk)
    assert head["id_number"] == person.id_number[:6] + "********" + person.id_number[-4:]
    assert head["phone"] == "138****5678"
    detail = api("village_secretary_a1").get(url("person-detail", pk=person.pk)).json()
    assert detail["id_number"] == head["id_number"] and detail["phone"] == "138****5678"
    assert "birth_date" not in detail  # it would spell out the masked digits
    assert detail["age"] == person.age and detail["sex"] == "M"


def test_nested_members_are_masked(api, world):
    detail = api("grid_worker_a1_1").get(url("household-detail", pk=world.households["A1-1"].pk)).json()
    phones = {m["name"]: m["phone"] for m in detail["members"]}
    assert phones == {"张建国": "138****5678", "刘桂兰": "139****4321"}
    for member in detail["members"]:
        assert "*" * 8 in member["id_number"] and len(member["id_number"]) == 18
    assert detail["head"] == {"id": world.persons["A1-1"].pk, "name": "张建国"}
    assert detail["member_count"] == 2


def _api_routes():
    """Every named route under /api/ that takes no argument or only ``pk``, as (name, needs_pk)."""
    routes = []
    for pattern in get_resolver().url_patterns:
        if str(pattern.pattern) != "api/":
            continue
        stack = [(entry, "") for entry in pattern.url_patterns]
        while stack:
            entry, namespace = stack.pop()
            if hasattr(entry, "url_patterns"):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                stack.extend((child, inner) for child in entry.url_patterns)
                continue
            params = set(entry.pattern.regex.groupindex)
            if entry.name and params <= {"pk"}:
                routes.append((f"{namespace}{entry.name}", params == {"pk"}))
    return sorted(routes)


def _text_of(response) -> str:
    """The body as text; an Excel export (cases ledger and statistics) is read cell by cell."""
    if response.get("Content-Type", "").startswith("application/vnd.openxmlformats"):
        import io

        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(response.content), read_only=True)
        return "\n".join(str(value) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                         for value in row if value is not None)
    return response.content.decode()


def test_no_clear_id_number_or_phone_in_any_get_response(api, world):
    """Walks every GET endpoint under /api/ as a persona who sees everything (the county
    secretary, and the auditor for the audit trail) and searches the raw bodies for clear values."""
    secrets = set()
    for person in world.persons.values():
        person.refresh_from_db()
        secrets.add(person.id_number)
        if person.phone:
            secrets.add(person.phone)
    ids = {
        "region": world.regions["A1"].pk, "grid": world.grids["A1-1"].pk, "household": world.households["A1-1"].pk,
        "person": world.persons["A1-1"].pk, "department": world.department.pk,
    }
    checked = 0
    for name, needs_pk in _api_routes():
        if name in ("api-token", "person-reveal"):
            continue
        if needs_pk:
            base = name.rsplit("-", 1)[0]
            if base not in ids:
                continue
            path = url(name, pk=ids[base])
        else:
            path = url(name)
        for persona in ("county_secretary", "auditor"):
            response = api(persona).get(path)
            if response.status_code != 200:
                continue
            body = _text_of(response)
            leaked = [s for s in secrets if s in body]
            assert not leaked, f"{name} as {persona} leaks {leaked}"
            checked += 1
    assert checked >= 15


def test_writes_answer_masked_too(api, world):
    person = world.persons["A1-1"]
    response = api("grid_worker_a1_1").patch(url("person-detail", pk=person.pk), {"phone": "13900001111"},
                                             format="json")
    assert response.status_code == 200
    assert "13900001111" not in response.content.decode()
    assert person.id_number not in response.content.decode()
    assert response.json()["phone"] == "139****1111"


def test_the_browsable_html_api_is_masked_too(client, world):
    client.force_login(world.user("village_secretary_a1"))
    person = world.persons["A1-1"]
    for path in (url("household-detail", pk=world.households["A1-1"].pk), url("person-detail", pk=person.pk)):
        response = client.get(path, HTTP_ACCEPT="text/html")
        assert response.status_code == 200
        body = response.content.decode()
        assert person.id_number not in body and "13812345678" not in body
        assert "138****5678" in body
