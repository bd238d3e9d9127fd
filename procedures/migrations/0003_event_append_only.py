"""The audit trail protected by the database itself: no UPDATE of an event, ever, and no DELETE
(nor TRUNCATE on PostgreSQL) outside history maintenance (procedures.history).

Python already refuses through ``Event.save()/delete()`` and the ``Event.objects`` queryset; these
triggers also refuse what goes around them: ``Event._base_manager``, ``QuerySet._raw_delete``, raw
SQL, a database shell. Triggers rather than django-pgtrigger: the same rules are needed on SQLite,
which django-pgtrigger does not support, so one migration writes each database's triggers in its
own SQL, written out here (not imported) so that the migration stays as it ran.

History maintenance is a transaction-local setting on PostgreSQL (``sopflow.history_maintenance``
set with ``set_config(…, true)``) and a function of the connection on SQLite, registered by
procedures.history for Django's connections only: a connection without it (the sqlite3 shell)
cannot delete an event at all.

SQLite drops a table's triggers with the table: a later migration that makes Django rebuild the
event table on SQLite must create them again (tests/test_history.py checks they exist).
"""

from django.db import migrations

POSTGRESQL = """
CREATE FUNCTION procedures_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' AND current_setting('sopflow.history_maintenance', true) = 'on' THEN
        RETURN OLD;  -- the purge_history command removes whole finished runs; NULL for TRUNCATE
    END IF;
    RAISE EXCEPTION 'audit events cannot be %', CASE TG_OP WHEN 'UPDATE' THEN 'changed' ELSE 'deleted' END
        USING ERRCODE = 'restrict_violation',
              HINT = 'Events are append-only; history is removed only by manage.py purge_history.';
END
$$;
CREATE TRIGGER procedures_event_no_update BEFORE UPDATE ON procedures_event
    FOR EACH ROW EXECUTE FUNCTION procedures_event_append_only();
CREATE TRIGGER procedures_event_no_delete BEFORE DELETE ON procedures_event
    FOR EACH ROW EXECUTE FUNCTION procedures_event_append_only();
CREATE TRIGGER procedures_event_no_truncate BEFORE TRUNCATE ON procedures_event
    FOR EACH STATEMENT EXECUTE FUNCTION procedures_event_append_only();
"""

POSTGRESQL_REVERSE = """
DROP TRIGGER procedures_event_no_truncate ON procedures_event;
DROP TRIGGER procedures_event_no_delete ON procedures_event;
DROP TRIGGER procedures_event_no_update ON procedures_event;
DROP FUNCTION procedures_event_append_only();
"""

SQLITE = [
    """CREATE TRIGGER procedures_event_no_update BEFORE UPDATE ON procedures_event
    BEGIN SELECT RAISE(ABORT, 'audit events cannot be changed'); END""",
    """CREATE TRIGGER procedures_event_no_delete BEFORE DELETE ON procedures_event
    WHEN NOT sopflow_history_maintenance()
    BEGIN SELECT RAISE(ABORT, 'audit events cannot be deleted'); END""",
]

SQLITE_REVERSE = [
    "DROP TRIGGER procedures_event_no_delete",
    "DROP TRIGGER procedures_event_no_update",
]


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL, params=None)  # no parameters: its % is SQL
    elif vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute(statement, params=None)
    else:
        raise NotImplementedError(f"the audit trail's triggers are written for PostgreSQL and SQLite, not {vendor}")


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_REVERSE, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_REVERSE:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("procedures", "0002_task_open_run_due"),
    ]

    operations = [
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
    ]
