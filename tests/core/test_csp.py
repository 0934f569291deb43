"""Content-Security-Policy (django-csp) on every page, and no inline script or style that the
policy would block (issue 10 §3).

The pages come from the permission matrix: every GET of every named URL, as the first persona
allowed to see it (anonymously for the public ones), so a new page is covered by being added there.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.permission_matrix.test_matrix import CASES, _request

HEADER = "Content-Security-Policy"
GONGZHI = Path(__file__).resolve().parents[2] / "gongzhi"


def _directives(policy: str) -> dict[str, list[str]]:
    parts = (p.strip().split() for p in policy.split(";") if p.strip())
    return {p[0]: p[1:] for p in parts}


def _assert_strict(policy: str, where: str):
    d = _directives(policy)
    assert d["default-src"] == ["'self'"], where
    for directive in ("script-src", "style-src"):
        assert "'self'" in d[directive], where
        assert "'unsafe-inline'" not in d[directive] and "'unsafe-eval'" not in d[directive], (where, policy)
    assert d["frame-ancestors"] == ["'none'"] and d["object-src"] == ["'none'"], where


@pytest.mark.django_db
def test_every_page_sends_a_strict_policy(world, client, api):
    checked = 0
    for case in CASES:
        if case.method != "get" or case.url_name == "api-docs":
            continue
        persona = case.allowed[0] if case.allowed else None
        if persona is None and not case.public:
            continue
        if case.api:
            who = api(persona)
        else:
            client.logout()
            if persona:
                client.force_login(world.users[persona])
            who = client
        response = _request(who, case, world)
        assert response.status_code < 500, case.id
        assert HEADER in response, f"{case.id} ({response.status_code}) sends no {HEADER}"
        _assert_strict(response[HEADER], case.id)
        checked += 1
    assert checked > 50  # the matrix really was walked


@pytest.mark.django_db
def test_errors_and_redirects_carry_the_policy_too(client):
    for response in (client.get("/registry/"), client.get("/no-such-page/"), client.get("/r/track/XXXX/")):
        assert HEADER in response, response.status_code
        _assert_strict(response[HEADER], str(response.status_code))


@pytest.mark.django_db
def test_api_docs_get_a_wider_policy_of_their_own(login, world):
    response = login(world.users["county_secretary"]).get("/api/docs/")
    assert response.status_code == 200
    d = _directives(response[HEADER])
    assert "'unsafe-inline'" in d["script-src"] and "https://cdn.jsdelivr.net" in d["script-src"]
    assert d["frame-ancestors"] == ["'none'"]


# ---------------------------------------------------------------------------------------------
# templates: nothing inline that the policy blocks

TAG = re.compile(r"<(script|style)\b([^>]*)>", re.I)
STYLE_ATTR = re.compile(r"""\sstyle\s*=\s*["']""", re.I)
EVENT_ATTR = re.compile(r"""\son[a-z]+\s*=\s*["']""", re.I)
JAVASCRIPT_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.I)


def _templates():
    return sorted(p for p in GONGZHI.rglob("*.html") if "templates" in p.parts)


def _inline_problems(text: str) -> list[str]:
    problems = []
    for m in TAG.finditer(text):
        tag, attrs = m.group(1).lower(), m.group(2)
        if "nonce=" in attrs:
            continue
        if tag == "script" and ("src=" in attrs or re.search(r"""type=["']application/(ld\+)?json""", attrs)):
            continue
        problems.append(f"inline <{tag}> without a nonce")
    problems += [f"style= attribute: …{text[m.start():m.start() + 40]}…" for m in STYLE_ATTR.finditer(text)]
    problems += [f"inline event handler: …{text[m.start():m.start() + 40]}…" for m in EVENT_ATTR.finditer(text)]
    problems += ["javascript: URL" for _ in JAVASCRIPT_URL.finditer(text)]
    return problems


def test_the_scanner_finds_what_the_policy_blocks():
    assert _inline_problems('<p style="color:red">') and _inline_problems("<script>alert(1)</script>")
    assert _inline_problems("<style>p{}</style>") and _inline_problems('<a onclick="x()">')
    assert not _inline_problems('<script src="/static/x.js" defer></script><script nonce="{{ n }}">1</script>')
    assert not _inline_problems('<script id="d" type="application/json">{}</script><p class="x">')


def test_no_template_has_inline_script_or_style():
    templates = _templates()
    assert len(templates) > 50
    found = {str(p.relative_to(GONGZHI)): problems for p in templates if (problems := _inline_problems(p.read_text()))}
    assert not found, found
