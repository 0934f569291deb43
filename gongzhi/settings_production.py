"""Production settings: ``DJANGO_SETTINGS_MODULE=gongzhi.settings_production``.

Everything in ``gongzhi.settings`` applies; this module refuses to start on what would be unsafe
and turns on what HTTPS deployment needs (等保 2.0 level 3: confidentiality of sessions in
transit, no framing, strict transport). ``gongzhi check --deploy`` passes with no warnings on these
settings (``tests/core/test_deploy_settings.py``).

Required environment:

* ``GONGZHI_SECRET_KEY`` — at least 50 characters, not the demo key (refused otherwise);
* ``GONGZHI_ALLOWED_HOSTS`` — the host names the site answers to, comma separated;
* ``DATABASE_URL`` — PostgreSQL, connecting as the application role that owns nothing (see
  ``docs/deployment.md`` and ``gongzhi db_roles``); migrations run as the owner role.

Optional: ``GONGZHI_CSRF_TRUSTED_ORIGINS`` (``https://gongzhi.example.gov.cn``),
``GONGZHI_BEHIND_PROXY=1`` (trust ``X-Forwarded-Proto`` from the TLS-terminating proxy),
``GONGZHI_HSTS_SECONDS`` (default one year), ``GONGZHI_SESSION_HOURS`` (default 8).
"""
from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from .settings import *  # noqa: F401,F403
from .settings import DATABASES, DEMO_SECRET_KEY, SECRET_KEY

MIN_SECRET_KEY_LENGTH = 50  # what Django's own deploy check asks (security.W009)


def _refuse(message: str):
    raise ImproperlyConfigured(f"gongzhi.settings_production: {message}")


if not os.environ.get("GONGZHI_SECRET_KEY") or SECRET_KEY == DEMO_SECRET_KEY:
    _refuse("GONGZHI_SECRET_KEY must be set to a random value (未设置生产密钥)")
if len(SECRET_KEY) < MIN_SECRET_KEY_LENGTH or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure-"):
    _refuse(f"GONGZHI_SECRET_KEY is too weak: use at least {MIN_SECRET_KEY_LENGTH} random characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))')")

DEBUG = False
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("GONGZHI_ALLOWED_HOSTS", "").split(",") if h.strip()]
if not ALLOWED_HOSTS:
    _refuse("GONGZHI_ALLOWED_HOSTS must name the host(s) the site answers to")
if "*" in ALLOWED_HOSTS:
    _refuse("GONGZHI_ALLOWED_HOSTS must not be '*'")
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    _refuse("DATABASE_URL must point at PostgreSQL (the embedded SQLite database is for the demo)")
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("GONGZHI_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

# HTTPS only: redirect plain HTTP, then tell browsers never to try it again (HSTS).
SECURE_SSL_REDIRECT = True
if os.environ.get("GONGZHI_BEHIND_PROXY") == "1":
    # Only behind a proxy that sets this header itself (and strips it from clients' requests).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int(os.environ.get("GONGZHI_HSTS_SECONDS", str(365 * 24 * 3600)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Cookies: never over plain HTTP, never readable by scripts (htmx takes the CSRF token from the
# page, not from the cookie), and sessions end after a working day.
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = int(os.environ.get("GONGZHI_SESSION_HOURS", "8")) * 3600
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SECURE = True
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# Email: the console backend of the demo would print residents' notifications into the log.
# SMTP unless GONGZHI_EMAIL_BACKEND names another production backend.
MAILERS = {
    "default": {
        "BACKEND": os.environ.get("GONGZHI_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"),
        "OPTIONS": {
            key: value for key, value in {
                "host": os.environ.get("GONGZHI_EMAIL_HOST"),
                "port": int(os.environ["GONGZHI_EMAIL_PORT"]) if os.environ.get("GONGZHI_EMAIL_PORT") else None,
                "username": os.environ.get("GONGZHI_EMAIL_USER"),
                "password": os.environ.get("GONGZHI_EMAIL_PASSWORD"),
                "use_tls": os.environ.get("GONGZHI_EMAIL_TLS", "1") == "1",
            }.items() if value is not None
        },
    },
}
