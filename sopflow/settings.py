"""Django settings for sopflow.

Everything that differs between a laptop and a server comes from the environment. ``DEBUG=0``
selects the production profile: ``SECRET_KEY`` required, HTTPS-only cookies, HSTS and a redirect
to HTTPS (``SOPFLOW_HTTPS=0`` turns those three off for a plain-HTTP run on 127.0.0.1), hashed and
compressed static files. docs/deploy.md lists every variable with its default.

Nothing a request changes lives in process memory: sessions, login attempts (django-axes) and all
of sopflow's state are in the database, uploaded files in ``STORAGES["default"]``, so several app
servers can share one database and one file storage behind a load balancer.
"""

import datetime as dt
import json
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SOPFLOW_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}.") from None


DEBUG = env_bool("DEBUG", True)

# A development key is fine for DEBUG; a server must bring its own.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off: a long random string, e.g. from "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`, kept the same on "
            "every app server (see docs/deploy.md)."
        )
    SECRET_KEY = "django-insecure-sopflow-development-only"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if not DEBUG else "*")
# Full origins (https://sopflow.example.go.id) for forms posted through a proxy on another name.
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# The address people open in their browser, for links in emails (no request to build them from).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# HTTPS: on by default in production, where a proxy (nginx, a load balancer) terminates TLS and
# says so in X-Forwarded-Proto. SOPFLOW_HTTPS=0 serves plain HTTP, e.g. `make serve` on 127.0.0.1.
SOPFLOW_HTTPS = env_bool("SOPFLOW_HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = SOPFLOW_HTTPS
SESSION_COOKIE_SECURE = SOPFLOW_HTTPS
CSRF_COOKIE_SECURE = SOPFLOW_HTTPS
LANGUAGE_COOKIE_SECURE = SOPFLOW_HTTPS
if SOPFLOW_HTTPS:
    # Trust the header only behind a proxy that sets it on every request (docs/deploy.md).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HSTS: a year, this host's subdomains too; "preload" only takes effect once the domain is
# submitted to hstspreload.org. SECURE_HSTS_SECONDS=0 turns it off.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600) if SOPFLOW_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    # django-axes, named "Sign-in security" in the admin, which shows its lockouts (procedures.admin_accounts).
    "procedures.apps.SignInSecurityConfig",
    "csp",
    "procedures",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Near the top: every response gets the policy, error pages and refused uploads included.
    "procedures.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "procedures.middleware.SiteLanguageMiddleware",
    "procedures.middleware.NulInAddressMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before the CSRF check reads a form: a body past REQUEST_BODY_MAX_BYTES is refused unread.
    "procedures.uploads.RequestSizeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # The site's own 404 page also with DEBUG on (Django's technical page is English, for developers).
    "procedures.middleware.SiteNotFoundMiddleware",
    "procedures.middleware.AdminListFiltersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it locks out a login after repeated failures.
    "axes.middleware.AxesMiddleware",
]

CSRF_FAILURE_VIEW = "procedures.views.errors.csrf_failure"

# Content-Security-Policy (django-csp; docs/deploy.md, "Security: content policy"): scripts,
# styles, fonts and requests from this site only, no inline script or style, no eval, nothing
# framed, no plugins. Bootstrap draws its small icons (select arrows, check marks) as data: SVG
# images in its stylesheet, hence data: for images; an image cannot run script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "frame-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# What /admin/ adds to it: the one inline <style> of Django's change list (a list without bulk
# actions, e.g. the audit events), allowed by its hash, not by 'unsafe-inline'. Its text is
# checked against the installed Django by tests/test_settings.py.
CSP_ADMIN_STYLE_HASHES = ["'sha256-blvLUW3UscWqsXGByNOqdBboM+ShWAuugp2mC/wbafU='"]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Five wrong passwords for one username from one address lock that username from that address
# (not the colleagues behind the same office NAT) for 15 minutes; the attempts live in the
# database, so every app server behind a load balancer sees them. Wrong old passwords on the
# password-change form count too (procedures.accounts). The lock lifts after the cool-off, by a
# password reset (any address), or by an admin's "unlock" in Admin → Keamanan masuk.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_CALLABLE = "procedures.accounts.lockout_response"
AXES_RESET_ON_SUCCESS = True
# The admin shows lockouts in sopflow's own pages, in Indonesian (procedures.admin_accounts).
AXES_ENABLE_ADMIN = False
# Failed attempts keep the form's fields: never a password typed into one.
AXES_SENSITIVE_PARAMETERS = ["password", "old_password", "new_password1", "new_password2"]
# Behind proxies REMOTE_ADDR is the proxy's: count the proxies that append to X-Forwarded-For
# (nginx alone: 1) so that a lockout hits the client's address, not everybody's.
SOPFLOW_PROXY_COUNT = env_int("SOPFLOW_PROXY_COUNT", 0)


def client_ip(request) -> str | None:
    """Return REMOTE_ADDR, or the entry SOPFLOW_PROXY_COUNT from the end of X-Forwarded-For."""
    from django.conf import settings

    proxies = settings.SOPFLOW_PROXY_COUNT
    forwarded = [item.strip() for item in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if item.strip()]
    if proxies and len(forwarded) >= proxies:
        # Entries to the left of the ones our proxies added are whatever the client sent.
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")


AXES_CLIENT_IP_CALLABLE = client_ip

ROOT_URLCONF = "sopflow.urls"

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
                "procedures.context_processors.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "sopflow.wsgi.application"

# An embedded SQLite file unless DATABASE_URL says otherwise (postgres://… in production).
# Production keeps each worker's connection for a minute (checked before reuse) instead of
# opening one per request.
CONN_MAX_AGE = env_int("CONN_MAX_AGE", 0 if DEBUG else 60)
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=CONN_MAX_AGE,
        conn_health_checks=env_bool("CONN_HEALTH_CHECKS", CONN_MAX_AGE > 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    sqlite_options = DATABASES["default"].setdefault("OPTIONS", {})
    # Wait for a lock instead of failing at once when two requests write together.
    sqlite_options["timeout"] = 20
    # Take the write lock when a transaction begins, not at its first write: two engine services
    # then run one after the other and the second reads what the first wrote (a clear "already
    # completed by …"), instead of both reading and one failing to upgrade its lock ("database is
    # locked"), which SQLite reports at once, without waiting.
    sqlite_options["transaction_mode"] = "IMMEDIATE"

# PostgreSQL: the statements of procedures.compiled (the engine's lock, the task page) are
# PREPAREd once per connection and then only EXECUTEd, so the server skips parsing and planning
# them. Turn off behind pgbouncer in transaction mode: a prepared statement belongs to one server
# connection, which the next transaction may not get (docs/performance.md).
SOPFLOW_PREPARED_STATEMENTS = env_bool("SOPFLOW_PREPARED_STATEMENTS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Jakarta"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
# WhiteNoise serves STATIC_ROOT; before the first collectstatic it is empty, not missing.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))


def file_storage_options() -> dict:
    raw = os.environ.get("FILE_STORAGE_OPTIONS", "").strip()
    try:
        options = json.loads(raw) if raw else {}
    except json.JSONDecodeError as error:
        raise ImproperlyConfigured(f"FILE_STORAGE_OPTIONS is not valid JSON: {error}.") from None
    if not isinstance(options, dict):
        raise ImproperlyConfigured("FILE_STORAGE_OPTIONS must be a JSON object, e.g. {\"bucket_name\": \"sopflow\"}.")
    return options


# Uploaded task outputs: the MEDIA_ROOT folder unless FILE_STORAGE_BACKEND names another Django
# storage (a dotted path, e.g. storages.backends.s3.S3Storage), with FILE_STORAGE_OPTIONS (JSON)
# as its options. Several app servers need a shared one: object storage or a shared folder.
STORAGES = {
    "default": {
        "BACKEND": os.environ.get("FILE_STORAGE_BACKEND", "").strip()
        or "django.core.files.storage.FileSystemStorage",
        "OPTIONS": file_storage_options(),
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# A session lasts a working day from signing in (8 hours unless SESSION_HOURS says otherwise); with
# SESSION_EXPIRE_AT_BROWSER_CLOSE=1 it also ends when the browser closes (a shared computer).
SESSION_COOKIE_AGE = env_int("SESSION_HOURS", 8) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", False)
# Password-reset links by email are valid for this long.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_HOURS", 2) * 3600

# sopflow does not use Django's cache framework: the default per-process cache holds nothing two
# app servers could disagree on. Code that starts using it must configure a shared CACHES.

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "sopflow@localhost")
# For django.core.mail.backends.smtp.EmailBackend.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)

# Who removed which history, and when (the purge_history command), one JSON line per step; keep
# it with the backups.
HISTORY_LOG = Path(os.environ.get("HISTORY_LOG", VAR_DIR / "history-maintenance.log"))

# SOP files: a sheet of 100 steps is about 40 KB; anything far larger is refused unread.
SOP_FILE_MAX_BYTES = int(os.environ.get("SOP_FILE_MAX_BYTES", 1024 * 1024))
# An office's logo as uploaded (procedures/logos.py re-encodes it smaller before storing it).
LOGO_MAX_BYTES = env_int("LOGO_MAX_BYTES", 1024 * 1024)

# Task outputs uploaded by staff.
TASK_UPLOAD_MAX_BYTES = int(os.environ.get("TASK_UPLOAD_MAX_BYTES", 10 * 1024 * 1024))
# A request body past this is refused by its Content-Length, unread, with a page saying so (413):
# several output files in one form. nginx's client_max_body_size should match (docs/deploy.md).
REQUEST_BODY_MAX_BYTES = env_int("REQUEST_BODY_MAX_BYTES", 50 * 1024 * 1024)
# A file larger than any limit is counted and dropped as it arrives, never stored: the form gets
# an empty stand-in of its size, refused by it (procedures/uploads.py).
FILE_UPLOAD_HANDLERS = [
    "procedures.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
TASK_UPLOAD_EXTENSIONS = env_list(
    "TASK_UPLOAD_EXTENSIONS", "pdf,doc,docx,xls,xlsx,odt,ods,jpg,jpeg,png,txt"
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
