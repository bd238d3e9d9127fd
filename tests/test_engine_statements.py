"""The statements of one completion as a request sends them: outside any test transaction.

(Its own module: the engine tests' module-wide cast keeps a transaction open, see engine_fixtures,
and inside it every engine call is a SAVEPOINT … RELEASE instead.) Django records the BEGIN and the
COMMIT of the service's transaction on both backends: five statements of SQL between them. On
SQLite the BEGIN takes the database's write lock at once (BEGIN IMMEDIATE, see the settings).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from procedures import engine
from tests.engine_fixtures import all_items, build_cast, drive, english, open_task  # noqa: F401 (fixtures)
from tests.test_engine_queries import COMPLETION, statements

pytestmark = pytest.mark.django_db(transaction=True)

# SQLite begins with the write lock ("transaction_mode": "IMMEDIATE" in the settings): still one statement.
BEGIN = "BEGIN IMMEDIATE" if connection.vendor == "sqlite" else "BEGIN"
IN_A_TRANSACTION = [BEGIN, *COMPLETION, "COMMIT"]


def test_a_completion_and_a_decision_are_five_statements_each(settings, english):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cast = build_cast()
    run = cast.start("004")
    drive(run, cast, stop_at=3)

    for claimed in (False, True):
        task = open_task(run)
        user, ticked = cast.holder(task.position), all_items(task)
        if claimed:
            engine.task_claim(task=task, user=user)
        with CaptureQueriesContext(connection) as captured:
            engine.task_complete(task=task, user=user, ticked=ticked, output_text="Terlaksana")
        assert statements(captured) == IN_A_TRANSACTION

    drive(run, cast, stop_at=7)
    task = open_task(run)
    user, ticked = cast.holder(task.position), all_items(task)
    with CaptureQueriesContext(connection) as captured:
        engine.task_decide(task=task, user=user, decision="ya", ticked=ticked)
    assert statements(captured) == IN_A_TRANSACTION
