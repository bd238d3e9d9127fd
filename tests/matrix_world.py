"""The world of the permission matrix (tests/test_permission_matrix.py): two offices, their SOPs,
runs in every state, tasks in every state, output files, Plt/Plh appointments, admin rows, and
the people who try every URL — each signed in once, so that a request only swaps cookies.

Office A is the Dinas Komunikasi dan Informatika (seed 003, with decisions that send a run back),
office B the Satuan Polisi Pamong Praja (seeds 000 and 004: two SOPs of one office). Objects and
users are found by label; the labels are fixed here so that the tests can be parametrised by them
before the database exists.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Model
from django.test import Client, override_settings
from django.utils import timezone

from procedures import engine
from procedures.demo import ADMIN_USERNAME, demo_users_create
from procedures.library import sop_import
from procedures.authoring import drafts as authoring
from procedures.models import (
    ActingAssignment,
    Event,
    Holiday,
    MonitoringSheet,
    Office,
    Position,
    Run,
    Sop,
    SopDraft,
    SopRevision,
    Task,
    TaskFile,
)
from tests.engine_fixtures import DISKOMINFO, KODE, SATPOL, SEEDS, all_items, work
from tests.factories import UserFactory

OFFICE_A, OFFICE_B = DISKOMINFO, SATPOL
SEED_FILES = ("000", "003", "004")
MISSING_PK = 987654

# Who tries every URL, besides anonymous and one holder of each position of both offices
# ("holder:<office letter>:<position>", added when the world is built).
EXTRA_USERS = (
    "anonymous",
    "plh",            # no position of their own; Plh of A's Kasi and of A's Kabid, today
    "plh-expired",    # was Plh of B's Kasat until yesterday
    "signed-in",      # an account without any position
    "staff",          # is_staff, no permission at all
    "office-admin",   # is_staff with some admin permissions (through a group)
    "superuser",
    "editor-b",       # an SOP editor of office B (the edit_sop_draft permission, no position)
)
# The admin permissions of "office-admin" (its group's): some views, appointing Plt/Plh, the
# SOP import (change_sop), and holidays.
OFFICE_ADMIN_PERMISSIONS = (
    "procedures.view_office", "procedures.view_position", "procedures.view_holiday", "procedures.add_holiday",
    "procedures.delete_holiday", "procedures.view_actingassignment", "procedures.add_actingassignment",
    "procedures.change_actingassignment", "procedures.view_soprevision", "procedures.change_sop",
    "procedures.view_run", "procedures.view_task", "procedures.view_event", "auth.view_user",
)

TASKS = (
    "A-done",             # run D1, step 1, with an output file
    "A-sent-back",        # run D1, step 4 answered Tidak (back to step 3)
    "A-waiting-decision",  # run D1, step 4 again; its judged step 3 was done by the Plh
    "A-in-progress",      # run D2, step 2 claimed by the Kabid
    "A-cancelled",        # run D3 (cancelled), step 2
    "B-waiting-approval",  # run S1 (SOP 000), step 5: the Kabid's telaahan of the Kasi's work
    "B-in-progress",      # run S2 (SOP 004), step 2 claimed by the Kabid Trantibmas
    "B-finished-run",     # run S3 (SOP 004, finished by Tidak at step 7), step 7
    "B-cancelled",        # run S4 (SOP 000, cancelled), step 1
    "missing",
)
# What the approvals page is tried with: approvals open and closed, a task that is none, none.
APPROVAL_TASKS = ("A-waiting-decision", "A-sent-back", "B-waiting-approval", "A-in-progress", "B-cancelled",
                  "missing")
RUNS = ("A-running", "A-running-claimed", "A-cancelled", "A-finished", "B-running", "B-running-other-sop",
        "B-finished", "B-cancelled", "missing")
FILES = ("A-file", "B-file", "missing")
# Monitoring sheets (procedures.monitoring.sheets): office A's draft and office B's signed sheet, of this semester.
SHEETS = ("A-draft", "B-signed", "missing")
SOPS = ("A-prodeskel", "B-bina-potensi", "B-patroli", "missing")
REVISIONS = ("A-prodeskel", "B-bina-potensi", "B-patroli")
# SOP drafts: B's editor's draft, the same submitted to B's Kasat, one of A submitted to A's Kabid
# (whose Plh may sign it), one of B returned to its editors.
DRAFTS = ("B-draft", "B-submitted", "A-submitted", "B-returned", "missing")
# Admin rows: one per office where rows belong to an office, else one, and a missing primary key.
ADMIN_OBJECTS = ("A", "B", "missing")
ADMIN_SINGLE = ("one", "missing")
# Models whose admin rows belong to no office: one row (ADMIN_SINGLE) instead of one per office.
SINGLE_ROW_MODELS = (Group, AccessAttempt)


@dataclass
class Person:
    """A user of the matrix with the cookies of their signed-in session."""

    label: str
    user: object | None
    session_key: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.user is None


@dataclass
class World:
    people: dict[str, Person] = field(default_factory=dict)
    tasks: dict[str, Task | None] = field(default_factory=dict)
    runs: dict[str, Run | None] = field(default_factory=dict)
    files: dict[str, TaskFile | None] = field(default_factory=dict)
    sheets: dict[str, MonitoringSheet | None] = field(default_factory=dict)
    sops: dict[str, str] = field(default_factory=dict)  # label -> kode
    revisions: dict[str, SopRevision] = field(default_factory=dict)
    drafts: dict[str, SopDraft | None] = field(default_factory=dict)
    admin_rows: dict[type[Model], dict[str, Model | None]] = field(default_factory=dict)
    media_root: Path | None = None
    who: dict = field(default_factory=dict)  # label -> what the rules say of the person (the test's Who)

    def user(self, label: str):
        return self.people[label].user

    def positions(self) -> list[Position]:
        return list(Position.objects.filter(office__name__in=(OFFICE_A, OFFICE_B)).select_related("office"))


def holder_label(position: Position) -> str:
    letter = "A" if position.office.name == OFFICE_A else "B"
    return f"holder:{letter}:{position.name}"


def _revision(number: str) -> SopRevision:
    return SopRevision.objects.select_related("sop__office").get(sop__kode=KODE[number])


def _holder(position: Position):
    """The demo holder of a position (demo users hold one position each)."""
    return position.holders.order_by("pk").first()


def _open(run: Run) -> Task:
    return Task.objects.select_related("step", "position__office").get(run=run, status__in=Task.OPEN)


def _work_open(run: Run, user=None, answer=None, files=()) -> Task:
    """Do the run's open task as its holder (or ``user``); ``files`` go with a process step."""
    task = _open(run)
    user = user or _holder(task.position)
    if files:
        return engine.task_complete(task=task, user=user, ticked=all_items(task), output_text="Laporan",
                                    files=files)
    return work(task, user, answer)


def _start(number: str, perihal: str) -> Run:
    revision = _revision(number)
    first = revision.steps.select_related("column__position").order_by("nomor").first()
    return engine.run_start(revision=revision, user=_holder(first.column.position), perihal=perihal)


def _pdf_file(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 laporan uji\n", content_type="application/pdf")


def _task(run: Run, nomor: int, visit: int = 1) -> Task:
    return Task.objects.get(run=run, step__nomor=nomor, visit=visit)


def build_world(media_root: Path) -> World:
    """Build everything in the current transaction (the caller rolls it back)."""
    world = World(media_root=media_root)
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
                           AXES_ENABLED=False, MEDIA_ROOT=media_root):
        for number in SEED_FILES:
            path = next(SEEDS.glob(f"{number}-*.yaml"))
            result = sop_import(data=path.read_bytes(), source=path.name)
            assert not result.refused, result.lines()
        demo_users_create()
        _people(world)
        _acting(world)
        _runs(world)
        _sheets(world)
        _drafts(world)
        _admin_rows(world)
        _sign_in(world)
    world.sops = {"A-prodeskel": KODE["003"], "B-bina-potensi": KODE["000"], "B-patroli": KODE["004"],
                  "missing": "tidak-ada-sop-ini"}
    world.revisions = {"A-prodeskel": _revision("003"), "B-bina-potensi": _revision("000"),
                       "B-patroli": _revision("004")}
    return world


def _people(world: World) -> None:
    world.people["anonymous"] = Person("anonymous", None)
    for position in sorted(world.positions(), key=lambda p: (p.office.name != OFFICE_A, p.level, p.name)):
        holder = _holder(position)
        assert holder is not None, position
        world.people[holder_label(position)] = Person(holder_label(position), holder)
    # Acting officials are appointed from the staff of the position's office.
    world.people["plh"] = Person("plh", UserFactory(username="plh", office=Office.objects.get(name=OFFICE_A)))
    world.people["plh-expired"] = Person("plh-expired", UserFactory(
        username="plh-expired", office=Office.objects.get(name=OFFICE_B)))
    world.people["signed-in"] = Person("signed-in", UserFactory(username="signed-in"))
    world.people["staff"] = Person("staff", UserFactory(username="staff", is_staff=True))
    office_admin = UserFactory(username="office-admin", is_staff=True)
    group = Group.objects.create(name="Admin kantor")
    for name in OFFICE_ADMIN_PERMISSIONS:
        app_label, codename = name.split(".")
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    office_admin.groups.add(group)
    world.people["office-admin"] = Person("office-admin", office_admin)
    world.people["superuser"] = Person("superuser", get_user_model().objects.get(username=ADMIN_USERNAME))
    editors = Group.objects.create(name="Penyusun SOP")
    editors.permissions.add(Permission.objects.get(content_type__app_label="procedures", codename="edit_sop_draft"))
    editor = UserFactory(username="editor-b", office=Office.objects.get(name=OFFICE_B))
    editor.groups.add(editors)
    world.people["editor-b"] = Person("editor-b", editor)
    assert set(EXTRA_USERS) <= set(world.people)


def _position(office: str, name: str) -> Position:
    return Position.objects.select_related("office").get(office__name=office, name=name)


def _acting(world: World) -> None:
    admin = world.user("superuser")
    today = timezone.localdate(timezone=Office.objects.get(name=OFFICE_A).zoneinfo)
    for name in ("Kasi", "Kabid"):
        engine.acting_appoint(position=_position(OFFICE_A, name), user=world.user("plh"), kind="plh",
                              starts_on=today - dt.timedelta(days=1), ends_on=today + dt.timedelta(days=1),
                              appointed_by=admin, reason="cuti")
    engine.acting_appoint(position=_position(OFFICE_B, "Kasat Pol PP"), user=world.user("plh-expired"), kind="plt",
                          starts_on=today - dt.timedelta(days=10), ends_on=today - dt.timedelta(days=1),
                          appointed_by=admin, reason="dinas luar")


def _runs(world: World) -> None:
    # Office A: Prodeskel. Step 4 (Kabid) decides on step 3 (Kasi): Tidak goes back to 3.
    d1 = _start("003", "Pemutakhiran data kelurahan")
    _work_open(d1, files=[_pdf_file("laporan-a.pdf")])     # 1 Kadis
    _work_open(d1)                                         # 2 Kabid
    _work_open(d1)                                         # 3 Kasi
    _work_open(d1, answer=("tidak", "Data belum lengkap"))  # 4 Kabid: back to 3
    _work_open(d1, user=world.user("plh"))                 # 3 again, by the Plh of the Kasi
    d2 = _start("003", "Data kampung baru")
    _work_open(d2)
    engine.task_claim(task=_open(d2), user=_holder(_open(d2).position))
    d3 = _start("003", "Dibatalkan")
    _work_open(d3)
    engine.run_cancel(run=d3, user=d3.started_by, reason="Salah masuk")
    d4 = _start("003", "Selesai semua")
    for _step in range(30):
        d4.refresh_from_db()
        if d4.status != Run.Status.RUNNING:
            break
        _work_open(d4)
    assert d4.status == Run.Status.FINISHED
    # Office B: Bina Potensi (000) and Patroli (004).
    s1 = _start("000", "Pembinaan linmas")
    _work_open(s1, files=[_pdf_file("laporan-b.pdf")])
    for _step in range(3):
        _work_open(s1)
    s2 = _start("004", "Patroli malam")
    _work_open(s2)
    engine.task_claim(task=_open(s2), user=_holder(_open(s2).position))
    s3 = _start("004", "Patroli pasar")
    for _step in range(6):
        _work_open(s3)
    _work_open(s3, answer=("tidak", "Tidak ada pelanggaran"))  # 7: Tidak ends the run
    s4 = _start("000", "Dibatalkan juga")
    engine.run_cancel(run=s4, user=s4.started_by, reason="Ganda")
    for run in (d1, d2, d3, d4, s1, s2, s3, s4):
        run.refresh_from_db()
    assert (s3.status, d3.status, s4.status) == (Run.Status.FINISHED, Run.Status.CANCELLED, Run.Status.CANCELLED)

    world.runs = {"A-running": d1, "A-running-claimed": d2, "A-cancelled": d3, "A-finished": d4,
                  "B-running": s1, "B-running-other-sop": s2, "B-finished": s3, "B-cancelled": s4, "missing": None}
    world.tasks = {
        "A-done": _task(d1, 1), "A-sent-back": _task(d1, 4), "A-waiting-decision": _task(d1, 4, visit=2),
        "A-in-progress": _task(d2, 2), "A-cancelled": _task(d3, 2),
        "B-waiting-approval": _task(s1, 5), "B-in-progress": _task(s2, 2),
        "B-finished-run": _task(s3, 7), "B-cancelled": _task(s4, 1), "missing": None,
    }
    expected = {"A-done": Task.Status.DONE, "A-sent-back": Task.Status.SENT_BACK,
                "A-waiting-decision": Task.Status.WAITING, "A-in-progress": Task.Status.IN_PROGRESS,
                "A-cancelled": Task.Status.CANCELLED, "B-waiting-approval": Task.Status.WAITING,
                "B-in-progress": Task.Status.IN_PROGRESS, "B-finished-run": Task.Status.DONE,
                "B-cancelled": Task.Status.CANCELLED}
    assert {label: world.tasks[label].status for label in expected} == expected
    assert world.tasks["A-waiting-decision"].previous.completed_by == world.user("plh")
    world.files = {"A-file": TaskFile.objects.get(task=_task(d1, 1)), "B-file": TaskFile.objects.get(task=_task(s1, 1)),
                   "missing": None}


def _sheets(world: World) -> None:
    from procedures.monitoring import sheets
    from procedures.monitoring.scope import semester_of

    period = semester_of(timezone.localdate())
    for label, office_name in (("A-draft", OFFICE_A), ("B-signed", OFFICE_B)):
        office = Office.objects.get(name=office_name)
        head = _holder(Position.objects.filter(office=office).order_by("level", "name").first())
        sheet = sheets.sheet_prepare(office=office, period=period, user=head)
        if label == "B-signed":
            sheet = sheets.sheet_sign(sheet=sheet, user=head)
        world.sheets[label] = sheet
    world.sheets["missing"] = None


def _small_sop(office: str, kode: str, signer: str, columns: tuple[str, str]) -> dict:
    return {
        "kode": kode, "nama": f"Uji {kode}", "instansi": office, "disahkan_oleh": {"jabatan": signer},
        "pelaksana": list(columns),
        "langkah": [
            {"nomor": 1, "kegiatan": "Menyiapkan", "pelaksana": columns[1], "waktu": "15 menit"},
            {"nomor": 2, "kegiatan": "Memeriksa. Setuju?", "pelaksana": columns[0], "simbol": "keputusan",
             "waktu": "10 menit", "ya": 3, "tidak": 1},
            {"nomor": 3, "kegiatan": "Melaksanakan", "pelaksana": columns[1], "waktu": "30 menit"},
        ],
    }


def _drafts(world: World) -> None:
    a, b = Office.objects.get(name=OFFICE_A), Office.objects.get(name=OFFICE_B)
    editor, admin = world.user("editor-b"), world.user("superuser")
    b_columns = ("Kasat Pol PP", "Petugas Operasional")
    draft = authoring.draft_create(office=b, user=editor, data=_small_sop(OFFICE_B, "uji-draf", "Kasat Pol PP",
                                                                         b_columns))
    submitted = authoring.draft_submit(draft=authoring.draft_create(
        office=b, user=editor, data=_small_sop(OFFICE_B, "uji-diajukan", "Kasat Pol PP", b_columns)), user=editor)
    returned = authoring.draft_submit(draft=authoring.draft_create(
        office=b, user=editor, data=_small_sop(OFFICE_B, "uji-dikembalikan", "Kasat Pol PP", b_columns)), user=editor)
    returned = authoring.draft_return(draft=returned, user=_holder(_position(OFFICE_B, "Kasat Pol PP")),
                                      reason="Perbaiki")
    a_submitted = authoring.draft_submit(draft=authoring.draft_create(
        office=a, user=admin, data=_small_sop(OFFICE_A, "uji-a", "Kabid", ("Kabid", "Kasi"))), user=admin)
    world.drafts = {"B-draft": draft, "B-submitted": submitted, "A-submitted": a_submitted, "B-returned": returned,
                    "missing": None}
    assert a.pk != b.pk


def _admin_rows(world: World) -> None:
    a, b = Office.objects.get(name=OFFICE_A), Office.objects.get(name=OFFICE_B)
    User = get_user_model()
    attempt = dict(user_agent="pytest", ip_address="10.0.0.9", username="kasi", http_accept="*/*", path_info="/masuk/")
    rows: dict[type[Model], dict[str, Model | None]] = {
        Office: {"A": a, "B": b},
        Position: {"A": _position(OFFICE_A, "Kabid"), "B": _position(OFFICE_B, "Kasat Pol PP")},
        Holiday: {"A": Holiday.objects.create(office=a, date=dt.date(2031, 3, 4), name="Hari jadi kota"),
                  "B": Holiday.objects.create(office=None, date=dt.date(2031, 3, 5), name="Cuti bersama")},
        User: {"A": world.user("signed-in"), "B": _holder(_position(OFFICE_B, "Kasat Pol PP"))},
        Group: {"one": Group.objects.get(name="Admin kantor")},
        ActingAssignment: {"A": ActingAssignment.objects.filter(user=world.user("plh")).order_by("pk").first(),
                           "B": ActingAssignment.objects.get(user=world.user("plh-expired"))},
        SopRevision: {"A": _revision("003"), "B": _revision("000")},
        Sop: {"A": Sop.objects.get(kode=KODE["003"]), "B": Sop.objects.get(kode=KODE["000"])},
        Run: {"A": world.runs["A-running"], "B": world.runs["B-running"]},
        Task: {"A": world.tasks["A-in-progress"], "B": world.tasks["B-waiting-approval"]},
        Event: {"A": Event.objects.filter(run=world.runs["A-running"]).order_by("pk").first(),
                "B": Event.objects.filter(run=world.runs["B-running"]).order_by("pk").first()},
        AccessAttempt: {"one": AccessAttempt.objects.create(**attempt, get_data="", post_data="",
                                                            failures_since_start=2)},
    }
    for objects in rows.values():
        objects["missing"] = None
    world.admin_rows = rows


def _sign_in(world: World) -> None:
    client = Client()
    for person in world.people.values():
        if person.user is not None:
            client.cookies.clear()
            client.force_login(person.user)
            person.session_key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
