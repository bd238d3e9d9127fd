import pytest


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SQLite, test in a database file as `make run` serves one, not in memory.

    Threads then get connections of their own that lock each other as two requests do
    (tests/test_engine_concurrency), and the live server of the browser tests reads what a test
    committed through its own connection. Each pytest-xdist worker has its own temporary folder.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3" and not database.get("TEST", {}).get("NAME"):
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("database") / "test.sqlite3")


@pytest.fixture(scope="session", autouse=True)
def _flush_removes_history():
    """Let the flush between transactional tests empty the event table, as maintenance.

    The audit trail's triggers refuse to delete events (and to TRUNCATE them on PostgreSQL)
    outside history maintenance (procedures.history); a test database is emptied after every
    transactional test, so its flush is maintenance. Nothing else in the suite is.
    """
    from django.db import transaction
    from django.db.backends.base.operations import BaseDatabaseOperations

    from procedures.history import history_maintenance

    flush = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        with transaction.atomic(using=self.connection.alias), history_maintenance(using=self.connection.alias):
            flush(self, sql_list)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BaseDatabaseOperations, "execute_sql_flush", execute_sql_flush)
        yield


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Keep uploaded files of a test in its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Hash demo passwords in microseconds: the real hasher costs ~0.3 s per user."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_login_lockout(settings):
    """django-axes needs a real request to count failures; tests of the lockout turn it on."""
    settings.AXES_ENABLED = False
