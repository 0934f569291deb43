"""The cases pages speak Chinese (every string of the app's catalogue translated and compiled),
and the OpenAPI schema documents every cases endpoint, one per step with its own input."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils import translation

import gongzhi.cases
from gongzhi.cases.actions import ACTIONS

PO = Path(gongzhi.cases.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _entries():
    text = PO.read_text(encoding="utf-8")
    for block in text.split("\n\n")[1:]:
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        msgstr = re.search(r'^msgstr(?:\[0\])? ((?:".*"\n?)+)', block, re.M)
        join = lambda m: "".join(eval(line) for line in m.group(1).strip().split("\n"))  # noqa: E731,S307
        yield join(msgid), join(msgstr), "msgid_plural" in block


def test_every_string_is_translated_and_compiled():
    entries = list(_entries())
    assert len(entries) > 250
    untranslated = [msgid for msgid, msgstr, _plural in entries if not CJK.search(msgstr)]
    assert not untranslated
    with translation.override("zh-hans"):
        stale = [msgid for msgid, _msgstr, plural in entries
                 if not plural and not CJK.search(translation.gettext(msgid))]
    assert not stale, f"the .mo is older than the .po (run msgfmt): {stale[:5]}"


@pytest.fixture(scope="module")
def schema():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def test_every_cases_endpoint_is_documented(schema):
    paths = schema["paths"]
    assert set(paths["/api/cases/"]) == {"get", "post"}
    for path in ("/api/cases/{id}/", "/api/cases/{id}/timeline/", "/api/cases/{id}/attachments/",
                 "/api/cases/export/", "/api/summonses/", "/api/case-statistics/", "/api/case-statistics/export/",
                 "/api/inbox/", "/api/case-attachments/{id}/download/"):
        assert set(paths[path]) == {"get"}, path
    for path in ("/api/summonses/{id}/acknowledge/", "/api/inbox/read/", "/api/cases/{id}/reveal-phone/"):
        assert set(paths[path]) == {"post"}, path
    assert set(paths["/api/case-categories/"]) == {"get", "post"}
    assert set(paths["/api/case-time-limits/"]) == {"get", "post"}
    list_params = {p["name"] for p in paths["/api/cases/"]["get"]["parameters"]}
    assert {"status", "ledger", "category", "level", "overdue", "due_soon", "q", "region", "queue"} <= list_params


def test_each_step_has_its_own_documented_endpoint(schema):
    for action in ACTIONS.values():
        if action.name == "acknowledge_summons":
            continue
        operation = schema["paths"][f"/api/cases/{{id}}/{action.slug}/"]["post"]
        body = operation["requestBody"]["content"]
        ref = next(iter(body.values()))["schema"]["$ref"]
        assert ref.endswith(f"Case{''.join(p.capitalize() for p in action.name.split('_'))}InputRequest")
        assert {"200", "204", "400", "403", "404"} <= set(operation["responses"]), action.name
        assert action.transition.who in operation["description"]
    assert "multipart/form-data" in schema["paths"]["/api/cases/{id}/attach/"]["post"]["requestBody"]["content"]
