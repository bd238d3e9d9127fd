"""The cast of the engine tests: the five seed SOPs imported, one demo user per position.

Import the fixtures into a test module (``cast`` needs ``_module_cast`` and ``english`` imported
too) and use the helpers: ``drive`` works a run step by step with the right demo user at each
task, ``refused`` checks that an action is refused and leaves every row as it was.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import override_settings
from django.utils import translation

from procedures import engine
from procedures.demo import ADMIN_USERNAME, demo_users_create
from procedures.library import sop_import
from procedures.models import (
    ActingAssignment,
    Event,
    Position,
    Run,
    SopRevision,
    Task,
    TaskCheck,
    TaskFile,
)

SEEDS = Path(django_settings.BASE_DIR) / "fixtures" / "sops"

# The seed SOPs by the number their file name starts with.
KODE = {
    "000": "satpolpp-bina-potensi-masyarakat",
    "001": "kesbangpol-sosialisasi-kepada-masyarakat",
    "002": "satbinmas-unit-binpolmas",
    "003": "diskominfo-prodeskel",
    "004": "satpolpp-patroli-pengawasan-wilayah",
}

SATPOL = "Satuan Polisi Pamong Praja"
KESBANGPOL = "Kantor Kesatuan Bangsa dan Politik Kota Tangerang"
SATBINMAS = "Satbinmas Polres Gorontalo Kota"
DISKOMINFO = "Dinas Komunikasi dan Informatika"


@dataclass
class Cast:
    """Who is who after ``demo_users_create()``: one demo holder per (office, position).

    Users are read afresh on each call: one test changing a user must not change the next one's.
    """

    user_pks: dict[tuple[str, str], int] = field(default_factory=dict)
    admin_pk: int | None = None

    @property
    def admin(self):
        return get_user_model().objects.get(pk=self.admin_pk)

    def user(self, position: str, office: str | None = None):
        """The demo holder of the position named; give the office when two offices have the name."""
        found = [pk for (office_name, name), pk in self.user_pks.items()
                 if name == position and office in (None, office_name)]
        assert len(found) == 1, f"{len(found)} demo users for {position!r} at {office!r}"
        return get_user_model().objects.get(pk=found[0])

    def holder(self, position: Position):
        """The demo holder of this position (other holders a test adds are not picked)."""
        return get_user_model().objects.get(pk=self.user_pks[(position.office.name, position.name)])

    def revision(self, number: str) -> SopRevision:
        return SopRevision.objects.select_related("sop__office").get(sop__kode=KODE[number])

    def start(self, number: str, perihal: str = "Uji jalannya SOP", user=None, **kwargs) -> Run:
        """Start a run of a seed SOP as the holder of its first step's position (of independent
        activities, 002: the first activity unless ``step=`` chooses another)."""
        revision = self.revision(number)
        first = revision.steps.order_by("nomor").first()
        if revision.kegiatan_terpisah:
            kwargs.setdefault("step", first)
        if user is None:
            user = self.holder(kwargs.get("step", first).column.position)
        return engine.run_start(revision=revision, user=user, perihal=perihal, **kwargs)


@pytest.fixture
def english(settings):
    """Engine messages in English (the msgids), whatever translations the project ships."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def build_cast() -> Cast:
    """Import the five seed SOPs and create their demo users (and the demo admin)."""
    # Hashing 24 demo passwords with the real hasher would cost seconds.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        for path in sorted(SEEDS.glob("*.yaml")):
            result = sop_import(data=path.read_bytes(), source=path.name)
            assert not result.refused, result.lines()
        demo = demo_users_create()
    pks = dict(get_user_model().objects.values_list("username", "pk"))
    return Cast(
        user_pks={(item.office, item.position): pks[item.username] for item in demo if item.username != ADMIN_USERNAME},
        admin_pk=pks[ADMIN_USERNAME],
    )


def built_for_module(django_db_blocker, build: Callable[[], object]):
    """For a module-scoped fixture: yield ``build()``, made in a transaction rolled back after the module.

    Each test still runs in its own savepoint inside it (pytest-django's usual per-test atomic),
    so every test starts from what ``build`` made and what it did is undone.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            built = build()
        except BaseException:
            outer.__exit__(*sys.exc_info())
            raise
    yield built
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture(scope="module")
def _module_cast(django_db_setup, django_db_blocker):
    """The cast, built once per test module (``built_for_module``).

    This saves importing five SOPs for each of the many tests. Not for ``transaction=True``
    tests: use ``build_cast()`` in those.
    """
    yield from built_for_module(django_db_blocker, build_cast)


@pytest.fixture
def cast(_module_cast, db, english) -> Cast:
    """The five seed SOPs and one demo user per position, for a ``django_db`` test."""
    return _module_cast


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def open_task(run: Run) -> Task:
    """The one open task of a run (the seed SOPs never open two at once)."""
    return Task.objects.select_related("step", "position__office").get(run=run, status__in=Task.OPEN)


def all_items(task: Task) -> list[int]:
    return list(task.step.kelengkapan.values_list("pk", flat=True))


def work(task: Task, user, answer: tuple[str, str] | None = None) -> Task:
    """Do a task as ``user``: tick everything, give an output; a decision answers ``answer``."""
    if task.step.is_decision:
        decision, reason = answer or ("ya", "")
        return engine.task_decide(task=task, user=user, decision=decision, reason=reason,
                                  ticked=all_items(task) if decision == "ya" else ())
    return engine.task_complete(task=task, user=user, ticked=all_items(task),
                                output_text=f"{task.step.output or 'Selesai'} (langkah {task.step.nomor})")


Script = Mapping[int, tuple[str, str] | list[tuple[str, str]]]


def drive(run: Run, cast: Cast, script: Script | None = None, *, stop_at: int | None = None,
          before: Callable[[Task], None] | None = None) -> list[tuple[int, str]]:
    """Work a run to its end, or until step ``stop_at`` is reached; return (step, username) done.

    ``script`` answers decisions by step number: one (decision, reason) for every visit, or a
    list used one visit after another; a decision not in it is answered Ya.
    ``before`` is called with each task before its holder does it.
    """
    answers = {nomor: list(value) if isinstance(value, list) else value for nomor, value in (script or {}).items()}
    trail = []
    for _guard in range(100):
        run.refresh_from_db()
        if run.status != Run.Status.RUNNING:
            return trail
        task = open_task(run)
        if task.step.nomor == stop_at:
            return trail
        if before is not None:
            before(task)
        answer = answers.get(task.step.nomor)
        if isinstance(answer, list):
            answer = answer.pop(0) if answer else None
        user = cast.holder(task.position)
        work(task, user, answer)
        trail.append((task.step.nomor, user.username))
    raise AssertionError("the run did not end within 100 tasks")


def transitions(run: Run) -> Counter:
    return Counter(run.events.values_list("transition", flat=True))


def snapshot() -> dict[str, list[dict]]:
    """Every row of the run tables, to show that a refused action changed nothing."""
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Run, Task, TaskCheck, TaskFile, Event, ActingAssignment)
    }


def refused(error: type[Exception], action: Callable[[], object]) -> Exception:
    """Run an action that must be refused with ``error`` and leave every row as it was."""
    before = snapshot()
    with pytest.raises(error) as info:
        action()
    assert snapshot() == before, "a refused action changed rows"
    return info.value
