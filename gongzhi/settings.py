"""Settings for Gongzhi.

Everything that differs between the demo and production comes from the environment:

* ``DATABASE_URL`` — PostgreSQL in production (``postgres://user@host:5432/gongzhi``);
  without it the embedded SQLite database in ``var/`` is used (the demo).
* ``CELERY_BROKER_URL`` — e.g. ``redis://127.0.0.1:6379/0``; without it background jobs run
  in-process (eager), so the demo needs no extra service.
* ``GONGZHI_SECRET_KEY``, ``GONGZHI_DEBUG``, ``GONGZHI_ALLOWED_HOSTS``.

Production uses ``gongzhi.settings_production`` (HTTPS, HSTS, secure cookies, refuses weak keys).
"""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent
VAR_DIR = Path(os.environ.get("GONGZHI_VAR_DIR", PROJECT_DIR / "var"))

SECRET_KEY = os.environ.get("GONGZHI_SECRET_KEY", "demo-only-insecure-key-change-me-in-production")
DEBUG = os.environ.get("GONGZHI_DEBUG", "0") == "1"
ALLOWED_HOSTS = os.environ.get("GONGZHI_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_htmx",
    # Gongzhi's own apps. Every app has the same shape: models.py, services.py (writes),
    # selectors.py (reads), views.py, urls.py, api.py, templates/<app>/, tests in tests/<app>/.
    "gongzhi.core",
    "gongzhi.accounts",
    "gongzhi.registry",
    "gongzhi.roster",
    "gongzhi.demo",
    "gongzhi.cases",
    "gongzhi.care",
    "gongzhi.intake",
    "gongzhi.village",
    "gongzhi.resources",
    "gongzhi.volunteers",
    "gongzhi.assessment",
    "gongzhi.linking",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "gongzhi.core.middleware.RequestIdMiddleware",
    "gongzhi.core.middleware.RejectNulBytesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "gongzhi.urls"
WSGI_APPLICATION = "gongzhi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "gongzhi.accounts.context_processors.scope",
            ],
        },
    },
]

_default_sqlite = f"sqlite:///{VAR_DIR / 'gongzhi.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", _default_sqlite), conn_max_age=60, conn_health_checks=True
    )
}
if os.environ.get("GONGZHI_TEST_DB_NAME"):
    # Lets several test runs share one PostgreSQL server without clobbering each other.
    DATABASES["default"]["TEST"] = {"NAME": os.environ["GONGZHI_TEST_DB_NAME"]}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {"timeout": 20}
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["gongzhi.accounts.backends.RoleBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
try:  # WhiteNoise warns on every request when STATIC_ROOT is missing (static files come from finders).
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
except OSError:
    pass
STATICFILES_DIRS = [BASE_DIR / "static"]
# Leaflet's own files (leaflet/leaflet.js, leaflet.css), from the django-leaflet wheel. Only its
# static folder is used: the app itself needs GDAL (GeoDjango), which the maps do not. The maps
# draw from the registry's own geometry, so they work with no tile server (GONGZHI_MAP_TILES).
_LEAFLET = importlib.util.find_spec("leaflet")
if _LEAFLET is not None and _LEAFLET.origin:
    STATICFILES_DIRS.append(("leaflet", Path(_LEAFLET.origin).parent / "static" / "leaflet"))
# An optional tile layer for the maps (e.g. a county intranet tile server,
# "https://tiles.example.gov.cn/{z}/{x}/{y}.png"); empty: outlines and points only.
GONGZHI_MAP_TILES = os.environ.get("GONGZHI_MAP_TILES", "")
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
WHITENOISE_USE_FINDERS = True

# Uploaded rosters are read in memory; a village roster is far below this.
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
ROSTER_MAX_UPLOAD_BYTES = 20 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False

GONGZHI_PAGE_SIZE = int(os.environ.get("GONGZHI_PAGE_SIZE", "50"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # One page size for every list page and list endpoint (gongzhi/core/pagination.py).
    "DEFAULT_PAGINATION_CLASS": "gongzhi.core.pagination.Pagination",
    "PAGE_SIZE": GONGZHI_PAGE_SIZE,
    "EXCEPTION_HANDLER": "gongzhi.core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Gongzhi API",
    "DESCRIPTION": "共治 grassroots co-governance platform. Token or session authentication; "
    "every list is scoped to the caller's territory; resident ID numbers and phones are masked.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Stable names for choice sets that several components share (an output serializer and its
    # input twin) under generic field names (status, kind, level …); without them drf-spectacular
    # falls back to hashed names like "Status774Enum" and warns.
    "ENUM_NAME_OVERRIDES": {
        "PersonStatusEnum": "gongzhi.registry.models.PersonStatus",
        "RelationEnum": "gongzhi.registry.models.Relation",
        "RegionKindEnum": "gongzhi.registry.models.RegionKind",
        "RegionLevelEnum": "gongzhi.registry.models.RegionLevel",
        "PartyOrgKindEnum": "gongzhi.registry.models.PartyOrgKind",
        "DeputyLevelEnum": "gongzhi.registry.models.DeputyLevel",
        "ContactLineEnum": "gongzhi.registry.models.ContactLine",
        "PovertyStatusEnum": "gongzhi.registry.models.PovertyStatus",
        "AuditActionEnum": "gongzhi.core.models.AuditAction",
        "ColourEnum": "gongzhi.care.models.Colour",
        "ChangeKindEnum": "gongzhi.care.models.ChangeKind",
        "RosterKindEnum": "gongzhi.roster.models.RosterKind",
        # residents' matters (gongzhi.cases)
        "CaseStatusEnum": "gongzhi.cases.choices.CaseStatus",
        "CaseLevelEnum": "gongzhi.cases.choices.Level",
        "CaseLedgerEnum": "gongzhi.cases.choices.Ledger",
        "CaseChannelEnum": "gongzhi.cases.choices.Channel",
        "MatterKindEnum": "gongzhi.cases.choices.MatterKind",
        "SatisfactionEnum": "gongzhi.cases.choices.Satisfaction",
        "SettledSatisfactionEnum": "gongzhi.cases.actions.SETTLED_SATISFACTION",
        "MediationOutcomeEnum": "gongzhi.cases.actions.MEDIATION",
        "CaseRequestKindEnum": "gongzhi.cases.choices.RequestKind",
        "CaseRequestStatusEnum": "gongzhi.cases.choices.RequestStatus",
        "CaseAttachmentKindEnum": "gongzhi.cases.choices.AttachmentKind",
        "TimeLimitKindEnum": "gongzhi.cases.choices.Limit",
        "ClosedAsEnum": "gongzhi.cases.choices.ClosedAs",
    },
}

# Background work: Celery on Redis in production, in-process without a broker (the demo).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_IMPORTS = ["gongzhi.cases.numbering", "gongzhi.intake.receipts"]  # tasks outside an app's tasks.py
# Residents' matters (gongzhi.cases): the deadline sweep runs every few minutes under celery beat
# (`celery -A gongzhi worker -B`); the demo runs `gongzhi sweep_deadlines --loop 300` instead.
CELERY_BEAT_SCHEDULE = {
    "cases-sweep-deadlines": {
        "task": "gongzhi.cases.tasks.sweep_deadlines",
        "schedule": float(os.environ.get("GONGZHI_SWEEP_INTERVAL_SECONDS", "300")),
    },
    # Statistics: fold the deltas the case triggers append into the rollups (cases/statistics.py).
    "cases-fold-statistics": {"task": "gongzhi.cases.tasks.fold_statistics", "schedule": 60.0},
    # gongzhi.care: warn helpers and grid heads about due-soon/overdue visits; reclassify nightly.
    "care-sweep-visits": {"task": "care.sweep_visits", "schedule": 3600.0},
    "care-classify-households": {"task": "care.classify_households", "schedule": 86400.0},
    # Cases whose registering process died between the registration and its numbering
    # (gongzhi/cases/numbering.py): numbered within a minute.
    "cases-number-pending": {"task": "gongzhi.cases.number_pending", "schedule": 60.0},
    # Open311 receipts whose after-receipt kick was lost (broker down): registered within 30 s.
    "intake-register-received": {"task": "intake.register_received", "schedule": 30.0},
    # Households the registry changed whose after-commit start of this task did not run.
    "care-reclassify-changed": {"task": "care.reclassify_changed", "schedule": 600.0},
    # gongzhi.village: overdue decision tasks, term ends, unexplained exemptions, late publicity.
    "village-sweep": {"task": "village.sweep", "schedule": 3600.0},
    # gongzhi.linking: stale list items, fast-track requests past their working-day limit.
    "linking-sweep": {"task": "linking.sweep", "schedule": 1800.0},
    # gongzhi.volunteers: points older than the county's expiry period expire, oldest first.
    "volunteers-expiry": {"task": "volunteers.expire_points", "schedule": 86400.0},
    # gongzhi.assessment: score cases closed since the last pass (一件一考评).
    "assessment-score-cases": {"task": "assessment.score_closed_cases", "schedule": 600.0},
}
# Absolute links in generated files (the bulletin's PDF and workbook point at the records behind
# every number).
GONGZHI_SITE_URL = os.environ.get("GONGZHI_SITE_URL", "http://localhost:8000")

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if os.environ.get("REDIS_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": os.environ["REDIS_URL"]}}

# Audit rows younger than this can never be deleted; the database trigger enforces the same
# floor (183 days), so this setting can only lengthen retention, never shorten it.
AUDIT_RETENTION_DAYS = max(183, int(os.environ.get("GONGZHI_AUDIT_RETENTION_DAYS", "183")))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("GONGZHI_LOG_LEVEL", "WARNING")},
}

# Residents' matters (gongzhi.cases): notifications, time limits and statistics.
# Email goes through Django's email backend (console unless configured); SMS through a pluggable
# backend: a dotted path to a class with send(phone, text) — the console backend prints and logs.
MAILERS = {
    "default": {"BACKEND": os.environ.get("GONGZHI_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")},
}
DEFAULT_FROM_EMAIL = os.environ.get("GONGZHI_FROM_EMAIL", "gongzhi@localhost")
GONGZHI_SMS_BACKEND = os.environ.get("GONGZHI_SMS_BACKEND", "gongzhi.cases.notifications.ConsoleSMSBackend")
GONGZHI_CASE_NUMBER_PREFIX = os.environ.get("GONGZHI_CASE_NUMBER_PREFIX", "GZ")
GONGZHI_CASE_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
# A case is "due soon" within this much working time of its deadline; an overdue case is
# escalated to the next tier's supervisors once it is this much working time past it.
GONGZHI_CASE_DUE_SOON_WORKING_HOURS = 24
GONGZHI_CASE_ESCALATE_AFTER_WORKING_HOURS = 24
GONGZHI_SUMMONS_WORKING_DAYS = 1  # 吹哨报到: a summoned department reports within this
# Satisfaction rate = (satisfied + weight × basically satisfied) / answers (unreachable excluded).
GONGZHI_SATISFACTION_BASIC_WEIGHT = float(os.environ.get("GONGZHI_SATISFACTION_BASIC_WEIGHT", "1.0"))

# =============================================================================================
# Deployment hardening (issue 10 §3). Production runs ``gongzhi.settings_production``, which
# imports this module and tightens it; this block holds what every environment shares.

#: The key above when GONGZHI_SECRET_KEY is not set. Anyone who reads this file can forge
#: sessions, password-reset links and signed values with it, so only a demo or a test may use it.
DEMO_SECRET_KEY = "demo-only-insecure-key-change-me-in-production"
#: Under pytest or ``manage.py test``. Exported so that a server a test starts in a subprocess
#: is in test mode too.
GONGZHI_TESTING = (os.environ.get("GONGZHI_TESTING") == "1" or "pytest" in sys.modules
                   or sys.argv[1:2] == ["test"])
if GONGZHI_TESTING:
    os.environ.setdefault("GONGZHI_TESTING", "1")
#: The demo: the embedded SQLite database (no DATABASE_URL), DEBUG, or GONGZHI_DEMO=1 (a demo or
#: a benchmark on PostgreSQL).
GONGZHI_DEMO_MODE = (os.environ.get("GONGZHI_DEMO") == "1" or DEBUG
                     or DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3")
if SECRET_KEY == DEMO_SECRET_KEY and not (GONGZHI_DEMO_MODE or GONGZHI_TESTING):
    raise ImproperlyConfigured(
        "GONGZHI_SECRET_KEY is not set: refusing to start on a real database with the demo key "
        "(未设置 GONGZHI_SECRET_KEY，不能用演示密钥连接正式数据库). Set GONGZHI_SECRET_KEY to a long random "
        "value (python -c 'import secrets; print(secrets.token_urlsafe(50))'), or GONGZHI_DEMO=1 for a demo.")

# Content-Security-Policy on every response (django-csp). Pages load scripts and styles from our
# own static files only: no inline <script>, <style> or style="…" (tests/core/test_csp.py scans
# the templates); a script that must be inline carries the request's nonce (``request.csp_nonce``).
# The API docs page (Swagger UI) gets a wider policy in gongzhi/urls.py.
from csp.constants import NONCE, NONE, SELF  # noqa: E402

INSTALLED_APPS += ["csp"]
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "csp.middleware.CSPMiddleware")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:", "blob:"],  # data: the empty favicon; blob: photo previews
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}

# Unconfirmed roster uploads hold ID numbers: the retention sweep deletes them after the county's
# setting (gongzhi.roster.RosterSettings, default 7 days).
CELERY_BEAT_SCHEDULE["roster-purge-unconfirmed"] = {"task": "roster.purge_unconfirmed", "schedule": 3600.0}

# Open311 GeoReport v2 (plain Django views) described in the OpenAPI schema too, so clients and the
# schema fuzzer (tests/api/test_schemathesis.py) find it there.
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",
    "gongzhi.intake.open311.schema.add_open311",
]

# --- accounts: login lockout (django-axes) and second factor (django-otp) — issue 10 §3 -------
# Kept in one block so the other apps' settings above stay untouched.
import datetime as _dt  # noqa: E402

INSTALLED_APPS += [
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]
MIDDLEWARE += [
    # after AuthenticationMiddleware: marks request.user verified when the session holds a device
    "django_otp.middleware.OTPMiddleware",
    # logins whose permissions call for a second factor reach nothing else until they give one
    "gongzhi.accounts.middleware.SecondFactorMiddleware",
    # last, as axes asks: turns a lockout flagged during authenticate() into the lockout page
    "axes.middleware.AxesMiddleware",
]
# axes first: it refuses a locked-out user before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", *AUTHENTICATION_BACKENDS]
# Failures count per username and, separately, per client address (either one locks), within a
# sliding window: a failure older than the cool-off no longer counts.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
GONGZHI_LOGIN_FAILURE_LIMIT = int(os.environ.get("GONGZHI_LOGIN_FAILURE_LIMIT", "5"))
# The API token endpoint kept its older, looser limit (scripts retry); same records, same window.
GONGZHI_API_TOKEN_FAILURE_LIMIT = int(os.environ.get("GONGZHI_API_TOKEN_FAILURE_LIMIT", "10"))
AXES_FAILURE_LIMIT = "gongzhi.accounts.lockout.failure_limit"
AXES_COOLOFF_TIME = _dt.timedelta(minutes=int(os.environ.get("GONGZHI_LOGIN_LOCKOUT_MINUTES", "15")))
AXES_USE_ATTEMPT_EXPIRATION = True
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "gongzhi.accounts.lockout.lockout_response"
AXES_VERBOSE = False
# The client address counted is the connection's own unless a reverse proxy is declared: an
# X-Forwarded-For header from anyone else would let a client pick its address (escaping the
# per-address lock, or locking someone else's). Behind nginx: GONGZHI_TRUSTED_PROXY_COUNT=1.
if os.environ.get("GONGZHI_TRUSTED_PROXY_COUNT"):
    AXES_IPWARE_PROXY_COUNT = int(os.environ["GONGZHI_TRUSTED_PROXY_COUNT"])
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
# Second factor: who needs one is decided from permissions (gongzhi.accounts.otp.needs_second_factor).
OTP_TOTP_ISSUER = os.environ.get("GONGZHI_OTP_ISSUER", "共治 Gongzhi")
OTP_TOTP_TOLERANCE = 1
GONGZHI_SMS_OTP_VALIDITY_SECONDS = 300
