"""The history of runs: kept for good, removed only by a logged maintenance purge.

Events are append-only twice over: in Python (``Event.save()/delete()`` and its queryset refuse)
and in the database (migration 0003: triggers refuse every UPDATE of an event, and every DELETE —
TRUNCATE too on PostgreSQL — outside *history maintenance*). The one way to remove history is
``history_purge`` (the ``purge_history`` command): whole finished or cancelled runs of one office
that ended before a date, with their tasks, ticked items, files and events, in one transaction
that declares itself maintenance, with who, when and what written to the history log before
anything is removed.

History maintenance is a transaction-local setting on PostgreSQL and, on SQLite, the answer of a
function every Django connection is given (``install_sqlite_function``); the SQLite shell has no
such function, so there an event cannot be deleted at all.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import logging
import os
import socket
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone
from django.utils.translation import gettext as _

from procedures.models import Event, Office, Run, Task, TaskFile

logger = logging.getLogger("sopflow.history")

# PostgreSQL: the trigger function reads current_setting('sopflow.history_maintenance', true).
MAINTENANCE_SETTING = "sopflow.history_maintenance"
# SQLite: the DELETE trigger asks sopflow_history_maintenance() (see migration 0003).
SQLITE_FUNCTION = "sopflow_history_maintenance"

# Runs removed per DELETE statement: SQLite limits the parameters of one statement.
BATCH = 500


class PurgeRefused(Exception):
    """The purge was not done; the message says why, in the user's language."""


def install_sqlite_function(sender, connection, **kwargs) -> None:
    """Give a new SQLite connection the function the event table's DELETE trigger asks.

    Connected to ``connection_created`` (procedures.apps). It answers 1 only inside
    ``history_maintenance()`` on this very connection.
    """
    if connection.vendor != "sqlite":
        return
    wrapper = weakref.ref(connection)

    def in_maintenance() -> int:
        return int(getattr(wrapper(), "_history_maintenance", False))

    connection.connection.create_function(SQLITE_FUNCTION, 0, in_maintenance)


@contextmanager
def history_maintenance(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Within this block this transaction may delete events (never change them).

    Only ``history_purge`` uses it (and the test suite's flush between transactional tests). It
    must be inside ``transaction.atomic()``: on PostgreSQL the setting ends with the transaction,
    and is rolled back with it.
    """
    connection = connections[using]
    if not connection.in_atomic_block:
        raise TransactionManagementError("history maintenance needs a transaction, which it ends with")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, 'on', true)", [MAINTENANCE_SETTING])
        yield
        # Reached only without an error (an error rolls the transaction back, the setting with it).
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, '', true)", [MAINTENANCE_SETTING])
    else:
        connection._history_maintenance = True
        try:
            yield
        finally:
            connection._history_maintenance = False


@dataclass
class Purge:
    """What a purge removes (or, as a dry run, would remove)."""

    office: Office
    before: dt.date
    run_ids: list[int] = field(default_factory=list)
    tasks: int = 0
    events: int = 0
    files: list[str] = field(default_factory=list)
    done: bool = False

    def log_entry(self, *, by, status: str) -> dict:
        return {
            "at": timezone.now().isoformat(timespec="seconds"),
            "action": "purge_history",
            "status": status,
            "by": by.get_username(),
            "by_id": by.pk,
            "os_user": _os_user(),
            "host": socket.gethostname(),
            "office": self.office.name,
            "office_id": self.office.pk,
            "ended_before": self.before.isoformat(),
            "runs": self.run_ids,
            "tasks": self.tasks,
            "events": self.events,
            "files": len(self.files),
        }


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for the process's user id (a container)
        return str(os.getuid())


def purgeable_runs(*, office: Office, before: dt.date):
    """Finished or cancelled runs of ``office`` that ended before ``before`` began in its zone."""
    cutoff = dt.datetime.combine(before, dt.time.min, tzinfo=office.zoneinfo)
    return Run.objects.filter(
        office=office, status__in=[Run.Status.FINISHED, Run.Status.CANCELLED], ended_at__lt=cutoff,
    )


def history_log_write(entry: dict) -> None:
    """Append one line to the history log and make sure it is on disk before going on."""
    path = Path(settings.HISTORY_LOG)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as log:
        log.write(json.dumps(entry, ensure_ascii=False) + "\n")
        log.flush()
        os.fsync(log.fileno())
    logger.warning("history %(status)s: %(runs)s run(s) of %(office)s ended before %(ended_before)s, by %(by)s",
                   {**entry, "runs": len(entry["runs"])})


def _batches(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start:start + BATCH]


def history_purge(*, office: Office, before: dt.date, by, confirm: bool) -> Purge:
    """Remove whole finished or cancelled runs of ``office`` that ended before ``before``.

    Without ``confirm`` nothing is removed: the result says what would be. ``by`` is the admin
    (an active superuser) who answers for it; the history log records them, the operating
    system's user and the host, the date, the office and every run's number before anything is
    removed, and again once it is (or that it was rolled back). Stored files go after the commit.
    """
    if not (by.is_active and by.is_superuser):
        raise PurgeRefused(_("only an active superuser may answer for removing history; %(name)s is not one") % {
            "name": by.get_username()})
    today = timezone.localdate(timezone=office.zoneinfo)
    if before > today:
        raise PurgeRefused(_("the date %(date)s is in the future; history is removed only for runs that have ended") % {
            "date": before.isoformat()})
    purge = Purge(office=office, before=before)
    logged = False
    try:
        with transaction.atomic():
            purge.run_ids = list(purgeable_runs(office=office, before=before).select_for_update()
                                 .order_by("pk").values_list("pk", flat=True))
            for batch in _batches(purge.run_ids):
                purge.tasks += Task.objects.filter(run_id__in=batch).count()
                purge.events += Event.objects.filter(run_id__in=batch).count()
                purge.files += TaskFile.objects.filter(task__run_id__in=batch).values_list("file", flat=True)
            if not confirm or not purge.run_ids:
                return purge
            # Logged first: no history leaves without a line saying who removed it.
            history_log_write(purge.log_entry(by=by, status="removing"))
            logged = True
            with history_maintenance():
                for batch in _batches(purge.run_ids):
                    # The base manager: Event.objects refuses to delete, by design.
                    Event._base_manager.filter(run_id__in=batch).delete()
                    Run.objects.filter(pk__in=batch).delete()  # their tasks, ticked items and file rows
            purge.done = True
            transaction.on_commit(lambda: _after_commit(purge, by))
    except Exception:
        if logged:
            history_log_write(purge.log_entry(by=by, status="rolled back"))
        raise
    return purge


def _after_commit(purge: Purge, by) -> None:
    history_log_write(purge.log_entry(by=by, status="removed"))
    for name in purge.files:
        try:
            default_storage.delete(name)
        except OSError:
            logger.exception("history purge: the stored file %s could not be removed", name)
