"""The audit trail seen from outside a test's transaction: PostgreSQL refuses to TRUNCATE it,
history maintenance needs a transaction of its own, and a connection that is not Django's (the
sqlite3 shell) cannot delete an event at all.

(Its own module: the engine tests' module-wide cast keeps a transaction open, see engine_fixtures.)
"""

import sqlite3

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.transaction import TransactionManagementError

from procedures.history import history_maintenance
from tests.engine_fixtures import build_cast, english  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def committed_run(settings, english):
    """A run of the seeds, committed (the events' foreign keys checked, nothing pending)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return build_cast().start("000")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no TRUNCATE")
@pytest.mark.parametrize("statement", ["TRUNCATE procedures_event", "TRUNCATE procedures_run CASCADE"])
def test_postgresql_refuses_to_truncate_the_events(committed_run, statement):
    with pytest.raises(IntegrityError, match="audit events cannot be deleted"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement)

    assert committed_run.events.count() == 2


def test_maintenance_needs_a_transaction_of_its_own():
    with pytest.raises(TransactionManagementError), history_maintenance():
        pass


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only")
def test_a_sqlite_shell_cannot_delete_an_event_at_all(committed_run):
    # The trigger asks a function that only Django's connections are given.
    shell = sqlite3.connect(connection.settings_dict["NAME"])
    try:
        with pytest.raises(sqlite3.OperationalError, match="no such function: sopflow_history_maintenance"):
            shell.execute("DELETE FROM procedures_event")
        with pytest.raises(sqlite3.IntegrityError, match="audit events cannot be changed"):
            shell.execute("UPDATE procedures_event SET reason = 'diubah'")
        assert shell.execute("SELECT count(*) FROM procedures_event").fetchone()[0] == 2
    finally:
        shell.close()
