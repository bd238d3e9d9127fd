"""The production profile: settings read from the environment, `check --deploy`, gunicorn's config.

Settings are evaluated in a fresh namespace (runpy) or a subprocess with the environment under
test, never by reloading the settings of this test run.
"""

import json
import os
import runpy
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import RequestFactory

from sopflow.settings import client_ip

BASE_DIR = Path(__file__).resolve().parent.parent
SETTINGS_FILE = BASE_DIR / "sopflow" / "settings.py"
GUNICORN_CONF = BASE_DIR / "sopflow" / "gunicorn.conf.py"

# Everything the settings or gunicorn's config read: cleared so the caller's shell cannot leak in.
ENV_NAMES = {
    "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "SITE_URL", "SOPFLOW_HTTPS",
    "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SOPFLOW_PROXY_COUNT",
    "DATABASE_URL", "CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "FILE_STORAGE_BACKEND", "FILE_STORAGE_OPTIONS",
    "MEDIA_ROOT", "STATIC_ROOT", "EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT",
    "SESSION_HOURS", "SESSION_EXPIRE_AT_BROWSER_CLOSE", "PASSWORD_RESET_HOURS", "AXES_FAILURE_LIMIT",
    "AXES_COOLOFF_MINUTES", "HISTORY_LOG", "SOPFLOW_VAR_DIR",
}
GUNICORN_ENV_PREFIX = "GUNICORN_"


# A subprocess gets only these from this run's environment: other tests set variables (Playwright's
# DJANGO_ALLOW_ASYNC_UNSAFE) that `check --deploy` rightly objects to.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")


def production_env(tmp_path, **overrides) -> dict[str, str]:
    env = {name: os.environ[name] for name in INHERITED if name in os.environ}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="sopflow.example.go.id",
        STATIC_ROOT=str(tmp_path / "static"),
        DJANGO_SETTINGS_MODULE="sopflow.settings",
    )
    env.update(overrides)
    return {name: value for name, value in env.items() if value is not None}


def settings_under(monkeypatch, tmp_path, **overrides) -> dict:
    """Evaluate settings.py afresh with the production environment plus ``overrides``."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in production_env(tmp_path, **overrides).items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))


def manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60,
    )


def test_check_deploy_passes_with_no_warning_under_production_settings(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = manage(production_env(tmp_path, SECRET_KEY=None), "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_production_is_https_only_by_default(monkeypatch, tmp_path):
    settings = settings_under(monkeypatch, tmp_path)
    assert settings["DEBUG"] is False
    assert settings["SECURE_SSL_REDIRECT"] is True
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["CSRF_COOKIE_SECURE"] is True
    assert settings["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    # The proxy in front terminates TLS and says so.
    assert settings["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert settings["STORAGES"]["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_sopflow_https_0_serves_plain_http_for_a_local_run(monkeypatch, tmp_path):
    settings = settings_under(monkeypatch, tmp_path, SOPFLOW_HTTPS="0")
    assert settings["DEBUG"] is False
    assert settings["SECURE_SSL_REDIRECT"] is False
    assert settings["SESSION_COOKIE_SECURE"] is False
    assert settings["CSRF_COOKIE_SECURE"] is False
    assert settings["SECURE_HSTS_SECONDS"] == 0
    assert "SECURE_PROXY_SSL_HEADER" not in settings


def test_hsts_and_trusted_origins_come_from_the_environment(monkeypatch, tmp_path):
    settings = settings_under(
        monkeypatch, tmp_path, SECURE_HSTS_SECONDS="3600",
        CSRF_TRUSTED_ORIGINS="https://sopflow.example.go.id, https://sop.example.go.id",
    )
    assert settings["SECURE_HSTS_SECONDS"] == 3600
    assert settings["CSRF_TRUSTED_ORIGINS"] == ["https://sopflow.example.go.id", "https://sop.example.go.id"]


def test_a_number_that_is_not_one_is_refused_by_name(monkeypatch, tmp_path):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="SECURE_HSTS_SECONDS must be a whole number"):
        settings_under(monkeypatch, tmp_path, SECURE_HSTS_SECONDS="a year")


def test_site_url_defaults_to_the_local_server(monkeypatch, tmp_path):
    assert settings_under(monkeypatch, tmp_path)["SITE_URL"] == "http://127.0.0.1:8000"
    assert settings_under(monkeypatch, tmp_path, SITE_URL="https://sopflow.example.go.id/")["SITE_URL"] == (
        "https://sopflow.example.go.id"
    )


def test_postgresql_from_database_url_keeps_connections_a_minute_with_health_checks(monkeypatch, tmp_path):
    settings = settings_under(monkeypatch, tmp_path, DATABASE_URL="postgres://sopflow:rahasia@db.internal:5432/sopflow")
    database = settings["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["NAME"], database["USER"]) == ("db.internal", "sopflow", "sopflow")
    assert database["CONN_MAX_AGE"] == 60
    assert database["CONN_HEALTH_CHECKS"] is True
    database = settings_under(monkeypatch, tmp_path, CONN_MAX_AGE="0")["DATABASES"]["default"]
    assert (database["CONN_MAX_AGE"], database["CONN_HEALTH_CHECKS"]) == (0, False)


def test_sqlite_takes_the_write_lock_as_a_transaction_begins_and_waits_for_it(monkeypatch, tmp_path):
    # Two completions at once then queue (the second gets "already completed by …"), see
    # tests/test_engine_concurrency; a deferred transaction would fail its upgrade at once.
    database = settings_under(monkeypatch, tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["OPTIONS"] == {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    postgres = settings_under(monkeypatch, tmp_path, DATABASE_URL="postgres://sopflow@db.internal/sopflow")
    assert "transaction_mode" not in postgres["DATABASES"]["default"].get("OPTIONS", {})


def test_uploads_go_to_media_root_by_default(monkeypatch, tmp_path):
    settings = settings_under(monkeypatch, tmp_path, MEDIA_ROOT=str(tmp_path / "media"))
    assert settings["STORAGES"]["default"] == {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {}}
    assert settings["MEDIA_ROOT"] == tmp_path / "media"


def test_the_file_storage_backend_and_its_options_come_from_the_environment(monkeypatch, tmp_path):
    settings = settings_under(
        monkeypatch, tmp_path, FILE_STORAGE_BACKEND="storages.backends.s3.S3Storage",
        FILE_STORAGE_OPTIONS='{"bucket_name": "sopflow", "endpoint_url": "https://s3.example.go.id"}',
    )
    assert settings["STORAGES"]["default"] == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": "sopflow", "endpoint_url": "https://s3.example.go.id"},
    }


@pytest.mark.parametrize("options, message", [
    ("{bucket_name: sopflow}", "FILE_STORAGE_OPTIONS is not valid JSON"),
    ('["sopflow"]', "FILE_STORAGE_OPTIONS must be a JSON object"),
])
def test_bad_storage_options_are_refused_with_a_clear_message(monkeypatch, tmp_path, options, message):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match=message):
        settings_under(monkeypatch, tmp_path, FILE_STORAGE_OPTIONS=options)


def test_django_builds_the_configured_storage(tmp_path):
    code = (
        "import django; django.setup();"
        "from django.core.files.storage import storages; s = storages['default'];"
        "print(type(s).__name__, s.base_url)"
    )
    env = production_env(
        tmp_path, FILE_STORAGE_BACKEND="django.core.files.storage.InMemoryStorage",
        FILE_STORAGE_OPTIONS='{"base_url": "https://files.example.go.id/"}',
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["InMemoryStorage", "https://files.example.go.id/"]


def test_sessions_and_login_attempts_are_kept_in_the_database(monkeypatch, tmp_path):
    # Not in one process's memory: every app server behind a load balancer must see them.
    settings = settings_under(monkeypatch, tmp_path)
    assert "SESSION_ENGINE" not in settings  # Django's default: django.contrib.sessions.backends.db
    assert "AXES_HANDLER" not in settings  # django-axes' default: the database handler
    from django.conf import global_settings

    assert global_settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"


def test_a_session_lasts_a_working_day_unless_configured(monkeypatch, tmp_path):
    settings = settings_under(monkeypatch, tmp_path)
    assert settings["SESSION_COOKIE_AGE"] == 8 * 3600
    assert settings["SESSION_EXPIRE_AT_BROWSER_CLOSE"] is False
    settings = settings_under(monkeypatch, tmp_path, SESSION_HOURS="4", SESSION_EXPIRE_AT_BROWSER_CLOSE="1")
    assert settings["SESSION_COOKIE_AGE"] == 4 * 3600
    assert settings["SESSION_EXPIRE_AT_BROWSER_CLOSE"] is True


def test_the_login_lockout_is_per_username_and_address_and_configurable(monkeypatch, tmp_path):
    import datetime as dt

    settings = settings_under(monkeypatch, tmp_path)
    assert settings["AXES_LOCKOUT_PARAMETERS"] == [["username", "ip_address"]]
    assert (settings["AXES_FAILURE_LIMIT"], settings["AXES_COOLOFF_TIME"]) == (5, dt.timedelta(minutes=15))
    assert {"password", "old_password", "new_password1", "new_password2"} <= set(settings["AXES_SENSITIVE_PARAMETERS"])
    settings = settings_under(monkeypatch, tmp_path, AXES_FAILURE_LIMIT="10", AXES_COOLOFF_MINUTES="60")
    assert (settings["AXES_FAILURE_LIMIT"], settings["AXES_COOLOFF_TIME"]) == (10, dt.timedelta(hours=1))


def test_the_history_log_goes_to_the_var_folder_unless_configured(monkeypatch, tmp_path):
    settings = settings_under(monkeypatch, tmp_path, SOPFLOW_VAR_DIR=str(tmp_path / "var"))
    assert settings["HISTORY_LOG"] == tmp_path / "var" / "history-maintenance.log"
    settings = settings_under(monkeypatch, tmp_path, HISTORY_LOG="/var/log/sopflow/history.log")
    assert str(settings["HISTORY_LOG"]) == "/var/log/sopflow/history.log"


class TestClientAddress:
    def request(self, remote="10.0.0.5", forwarded=None):
        headers = {"REMOTE_ADDR": remote}
        if forwarded is not None:
            headers["HTTP_X_FORWARDED_FOR"] = forwarded
        return RequestFactory().post("/masuk/", **headers)

    def test_without_proxies_it_is_the_peer(self, settings):
        settings.SOPFLOW_PROXY_COUNT = 0
        assert client_ip(self.request(forwarded="203.0.113.9")) == "10.0.0.5"

    def test_behind_nginx_it_is_the_address_nginx_saw(self, settings):
        settings.SOPFLOW_PROXY_COUNT = 1
        # The client sent a made-up X-Forwarded-For; nginx appended the real address.
        assert client_ip(self.request(forwarded="1.2.3.4, 203.0.113.9")) == "203.0.113.9"

    def test_behind_a_load_balancer_and_nginx_it_is_the_address_the_balancer_saw(self, settings):
        settings.SOPFLOW_PROXY_COUNT = 2
        assert client_ip(self.request(forwarded="1.2.3.4, 203.0.113.9, 10.0.0.2")) == "203.0.113.9"

    def test_a_request_that_bypassed_the_proxies_falls_back_to_the_peer(self, settings):
        settings.SOPFLOW_PROXY_COUNT = 2
        assert client_ip(self.request(forwarded="203.0.113.9")) == "10.0.0.5"


def gunicorn_config(monkeypatch, **env) -> dict:
    for name in list(os.environ):
        if name.startswith(GUNICORN_ENV_PREFIX):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(GUNICORN_CONF))


def test_gunicorn_defaults_to_127_0_0_1_8000_with_2_cpus_plus_1_workers(monkeypatch):
    config = gunicorn_config(monkeypatch)
    assert config["bind"] == ["127.0.0.1:8000"]
    assert config["workers"] == 2 * os.cpu_count() + 1
    assert config["wsgi_app"] == "sopflow.wsgi:application"
    assert config["accesslog"] == "-"
    assert config["preload_app"] is True
    assert config["timeout"] == 60


def test_gunicorn_reads_its_environment(monkeypatch):
    config = gunicorn_config(
        monkeypatch, GUNICORN_BIND="0.0.0.0:8000", GUNICORN_WORKERS="3", GUNICORN_TIMEOUT="120",
        GUNICORN_ACCESS_LOG="", GUNICORN_PRELOAD="0",
    )
    assert config["bind"] == ["0.0.0.0:8000"]
    assert (config["workers"], config["timeout"]) == (3, 120)
    assert config["accesslog"] is None
    assert config["preload_app"] is False


def test_gunicorn_accepts_the_file_and_the_command_line_wins():
    env = {name: os.environ[name] for name in INHERITED if name in os.environ}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    result = subprocess.run(
        [str(gunicorn), "--print-config", "-c", str(GUNICORN_CONF), "--workers", "3", "--bind", "127.0.0.1:8123",
         "sopflow.wsgi"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    printed = dict(line.split(" = ", 1) for line in result.stdout.splitlines() if " = " in line)
    printed = {name.strip(): value.strip() for name, value in printed.items()}
    assert printed["workers"] == "3"
    assert printed["bind"] == "['127.0.0.1:8123']"
    assert printed["timeout"] == "60"
    assert printed["control_socket_disable"] == "True"
