"""Production settings: ``check --deploy`` is clean, and neither settings module starts with the
demo SECRET_KEY outside a demo or a test (issue 10 §3).

Each case runs in a fresh interpreter with its own environment, as a server would start.
"""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = "postgres://gongzhi@db.example.internal:5432/gongzhi"  # never connected to


def _env(**overrides) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GONGZHI_", "DJANGO_", "DATABASE_URL", "CELERY_", "REDIS_URL"))}
    env.update({k: v for k, v in overrides.items() if v is not None})
    return env


def _run(args: list[str], **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=_env(**env), capture_output=True, text=True,
                          timeout=120)


def _production(**overrides) -> dict:
    return {"DJANGO_SETTINGS_MODULE": "gongzhi.settings_production", "GONGZHI_SECRET_KEY": secrets.token_urlsafe(50),
            "GONGZHI_ALLOWED_HOSTS": "gongzhi.example.gov.cn", "DATABASE_URL": POSTGRES, **overrides}


def test_check_deploy_is_clean_on_the_production_settings():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **_production())
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNING" not in output and "ERROR" not in output


def test_production_settings_turn_on_https_and_secure_cookies():
    code = ("from django.conf import settings as s; import json; print(json.dumps([s.DEBUG, s.SECURE_SSL_REDIRECT, "
            "s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
            "s.SESSION_COOKIE_HTTPONLY, s.X_FRAME_OPTIONS, s.ALLOWED_HOSTS]))")
    result = _run(["-c", code], **_production(GONGZHI_DEBUG="1"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ('[false, true, 31536000, true, true, true, true, "DENY", '
                                     '["gongzhi.example.gov.cn"]]')


@pytest.mark.parametrize("overrides, message", [
    ({"GONGZHI_SECRET_KEY": None}, "GONGZHI_SECRET_KEY"),
    ({"GONGZHI_SECRET_KEY": "demo-only-insecure-key-change-me-in-production"}, "GONGZHI_SECRET_KEY"),
    ({"GONGZHI_SECRET_KEY": "short-but-random-Zx81"}, "too weak"),
    ({"GONGZHI_SECRET_KEY": "a" * 60}, "too weak"),
    ({"GONGZHI_ALLOWED_HOSTS": None}, "GONGZHI_ALLOWED_HOSTS"),
    ({"GONGZHI_ALLOWED_HOSTS": "*"}, "GONGZHI_ALLOWED_HOSTS"),
    ({"DATABASE_URL": None}, "PostgreSQL"),
], ids=["no key", "demo key", "short key", "one-letter key", "no hosts", "any host", "sqlite"])
def test_production_settings_refuse_to_start(overrides, message):
    env = _production()
    for key, value in overrides.items():
        env[key] = value
    result = _run(["-c", "import gongzhi.settings_production"], **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr, result.stderr


def test_default_settings_refuse_the_demo_key_on_a_real_database():
    result = _run(["-c", "import gongzhi.settings"], DATABASE_URL=POSTGRES)
    assert result.returncode != 0
    assert "GONGZHI_SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize("env", [
    {"DATABASE_URL": POSTGRES, "GONGZHI_DEMO": "1"},          # a demo or a benchmark on PostgreSQL
    {"DATABASE_URL": POSTGRES, "GONGZHI_TESTING": "1"},       # a server started by a test
    {"DATABASE_URL": POSTGRES, "GONGZHI_SECRET_KEY": secrets.token_urlsafe(50)},
    {},                                                       # the embedded SQLite demo (./scripts/demo)
], ids=["demo flag", "testing", "own key", "sqlite demo"])
def test_default_settings_start_in_demo_and_test_mode(env, tmp_path):
    result = _run(["-c", "import gongzhi.settings as s; print(s.SECRET_KEY[:4])"], GONGZHI_VAR_DIR=str(tmp_path), **env)
    assert result.returncode == 0, result.stderr
