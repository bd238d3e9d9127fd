"""procedures.compiled outside a test's transaction (its own module: the cast of test_compiled keeps one open)."""

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError

from procedures.compiled import CompiledQuery
from procedures.models import Task
from tests.engine_fixtures import english  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's (SQLite runs the plain statement)")


def test_a_locking_statement_outside_a_transaction_is_refused(english):
    if not connection.features.has_select_for_update:
        pytest.skip("SQLite has no FOR UPDATE: it locks the whole file when writing")
    compiled = CompiledQuery("test.lock.autocommit", lambda pk: Task.objects.select_for_update().filter(pk=pk), pk=int)
    with pytest.raises(TransactionManagementError):  # compiling it: the ORM refuses
        compiled.rows(pk=1)
    with transaction.atomic():
        assert compiled.rows(pk=1) == []
    with pytest.raises(TransactionManagementError):  # compiled already: refused all the same
        compiled.rows(pk=1)


def test_a_new_server_connection_gets_the_statement_prepared_again(english):
    _postgres_only()
    compiled = CompiledQuery("test.reconnect", lambda pk: Task.objects.filter(pk=pk), pk=int)
    assert compiled.rows(pk=1) == []
    connection.close()  # the next query opens a new server connection, with nothing prepared on it
    assert compiled.rows(pk=1) == []
