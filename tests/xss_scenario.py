"""Script in every text of the site: one SOP file and the work done on it, for the escaping checks.

Every text field of the SOP file and of every form, and the names of the people shown, hold a
payload that would run script (or end the element it stands in) if a page, a PDF or an email
put it into HTML unescaped. ``build()`` imports the file, names the people, and works four runs
into every state a page can show; ``pages()`` lists every page that shows those texts, with the
user who may open it. tests/test_views_escaping.py reads them over the test client (no payload
becomes markup, in the pages and in the HTML fed to WeasyPrint; the PDFs' text has it
literally); tests/browser/test_xss.py opens them in Chromium (no script runs, no CSP violation).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import yaml
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from procedures import engine
from procedures.library import sop_import
from procedures.models import ActingAssignment, Holiday, Position, Profile, Run, Sop, Task

# Each would run ``__xss()`` as markup: an element, an attribute broken out of its quotes, a
# javascript: URL, the end of the <textarea>, <style> or <title> it is written into; and template
# syntax, which must stay text. The browser test defines ``window.__xss`` to record a call.
PAYLOAD = ("\"'><svg onload=__xss()><img src=x onerror=__xss()><script>__xss()</script>"
           "</textarea></style></title>{{ 7*7 }}javascript:__xss()")
# For fields with room for less (a NIP, a person's name) and for file names, which lose any "/".
SHORT = "\"'><img src=x onerror=__xss()>"
FILE_NAME = "\"'><svg onload=__xss()><img src=x onerror=__xss()>{{ 7*7 }}.pdf"

# What a page holds only if a payload became markup instead of text.
MARKUP = re.compile(
    r"<svg onload=__xss|<img src=x onerror=__xss|<script>__xss|__xss\(\)</script>|</textarea></style>"
    r"|(?:href|src|action|formaction)\s*=\s*[\"']?\s*javascript:",
    re.IGNORECASE,
)
# What a page holds when it shows a payload as text (HTML-escaped; SVG text escapes the same).
SHOWN = "&lt;img src=x onerror=__xss()&gt;"


def text(tag: str) -> str:
    """The payload, tagged with the field it stands in (so a failure says which)."""
    return f"{tag}: {PAYLOAD}"


def sop_file() -> bytes:
    """An SOP file with a payload in every text it may hold (``kode`` is a slug, the times and
    dates follow their grammars, so those cannot)."""
    # Position names with the shorter payload: a Plh's event names the position twice and the
    # person in its 300 characters (longer ones are the engine's to bound, not this test's).
    kepala, staf = f"Kepala pelaksana: {SHORT}", f"Staf pelaksana: {SHORT}"
    data = {
        "kode": "uji-xss",
        "nama": text("nama"),
        "instansi": f"Kantor {text('instansi')}",
        "nomor": text("nomor"),
        "tanggal_pembuatan": "2024-01-02",
        "disahkan_oleh": {"jabatan": text("jabatan"), "nama": text("disahkan.nama"),
                          "pangkat": text("pangkat"), "nip": SHORT},
        **{key: [text(key), f"{key} 2: {SHORT}"] for key in (
            "dasar_hukum", "kualifikasi_pelaksana", "keterkaitan", "peralatan", "peringatan", "pencatatan")},
        "jumlah_waktu": "1 hari 2 jam 15 menit",
        "pelaksana": [kepala, staf],
        "langkah": [
            {"nomor": 1, "kegiatan": text("kegiatan 1"), "pelaksana": staf, "kelengkapan": [text("kelengkapan 1")],
             "waktu": "15 menit", "output": text("output 1"), "keterangan": text("keterangan 1")},
            {"nomor": 2, "kegiatan": text("kegiatan 2"), "pelaksana": kepala, "simbol": "keputusan",
             "kelengkapan": [text("kelengkapan 2")], "waktu": "2 jam", "tidak": 1,
             "keterangan": text("keterangan 2")},
            {"nomor": 3, "kegiatan": text("kegiatan 3"), "pelaksana": staf, "waktu": "1 hari",
             "output": text("output 3")},
        ],
    }
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode()


@dataclass
class Scenario:
    """What ``build`` made: the people (by role) and the runs and tasks in each state."""

    users: dict[str, object] = field(default_factory=dict)
    sop: Sop | None = None
    runs: dict[str, Run] = field(default_factory=dict)
    tasks: dict[str, Task] = field(default_factory=dict)


PASSWORD = "sopflow-demo"


def _person(username: str, **extra):
    user = get_user_model().objects.create_user(
        username=username, password=PASSWORD, first_name=SHORT, last_name=f"{username} {SHORT}",
        email=f"{username}@example.go.id", **extra)
    return user


def _ticked(task: Task) -> list[int]:
    return list(task.step.kelengkapan.values_list("pk", flat=True))


def _work(task: Task, user, *, files: bool = False) -> None:
    upload = [SimpleUploadedFile(FILE_NAME, b"%PDF-1.4 uji", content_type="application/pdf")] if files else []
    engine.task_complete(task=task, user=user, ticked=_ticked(task), output_text=text("output_text"),
                         files=upload, note=text("note"))


def open_task(run: Run) -> Task:
    return Task.objects.select_related("step").get(run=run, status__in=Task.OPEN)


def build() -> Scenario:
    """Import the file and work its runs: A waits (overdue) for the head's decision, B was sent
    back by the Plh with a reason, C was cancelled, D finished."""
    result = sop_import(data=sop_file(), source=FILE_NAME.replace(".pdf", ".yaml"))
    assert not result.refused, result.lines()
    found = Scenario(sop=Sop.objects.select_related("office").get(kode="uji-xss"))
    office = found.sop.office
    kepala, staf = (Position.objects.get(office=office, name__startswith=prefix) for prefix in ("Kepala", "Staf"))
    users = found.users
    users["kepala"], users["staf"], users["plh"] = _person("xss-kepala"), _person("xss-staf"), _person("xss-plh")
    users["admin"] = _person("xss-admin", is_staff=True, is_superuser=True)
    kepala.holders.add(users["kepala"])
    staf.holders.add(users["staf"])
    Profile.objects.create(user=users["plh"], office=office)  # a Plh is one of the office's people
    today = timezone.localdate(timezone=office.zoneinfo)
    engine.acting_appoint(position=kepala, user=users["plh"], kind=ActingAssignment.Kind.PLH, starts_on=today,
                          ends_on=today + dt.timedelta(days=3), appointed_by=users["admin"], reason=text("acting.reason"))
    Holiday.objects.create(office=office, date=today + dt.timedelta(days=30), name=text("holiday"))
    revision = found.sop.revisions.get()

    def start(tag: str) -> Run:
        return engine.run_start(revision=revision, user=users["staf"], perihal=text(f"perihal {tag}"))

    runs, tasks = found.runs, found.tasks
    runs["waiting"] = start("A")
    tasks["done"] = open_task(runs["waiting"])
    _work(tasks["done"], users["staf"], files=True)
    tasks["decision"] = open_task(runs["waiting"])
    # Overdue, for the heads' board (a test setting the clock, not a rule).
    Task.objects.filter(pk=tasks["decision"].pk).update(due_at=timezone.now() - dt.timedelta(days=2))

    runs["sent back"] = start("B")
    _work(open_task(runs["sent back"]), users["staf"], files=True)
    decided = open_task(runs["sent back"])
    engine.task_decide(task=decided, user=users["plh"], decision="tidak", reason=text("reason"))
    tasks["sent back"] = Task.objects.get(pk=decided.pk)
    tasks["redo"] = open_task(runs["sent back"])
    engine.task_claim(task=tasks["redo"], user=users["staf"])

    runs["cancelled"] = start("C")
    tasks["cancelled"] = open_task(runs["cancelled"])
    engine.run_cancel(run=runs["cancelled"], user=users["kepala"], reason=text("cancel_reason"))

    runs["finished"] = start("D")
    _work(open_task(runs["finished"]), users["staf"], files=True)
    engine.task_decide(task=open_task(runs["finished"]), user=users["kepala"], decision="ya",
                       ticked=_ticked(open_task(runs["finished"])))
    _work(open_task(runs["finished"]), users["staf"])
    for name, run in runs.items():
        run.refresh_from_db()
    assert runs["finished"].status == Run.Status.FINISHED and runs["cancelled"].status == Run.Status.CANCELLED
    return found


@dataclass(frozen=True)
class Page:
    user: str
    url: str
    name: str


def pages(found: Scenario) -> list[Page]:
    """Every page that shows the scenario's texts, with the user who may open it."""
    runs, tasks, sop = found.runs, found.tasks, found.sop
    revision = sop.revisions.get()
    office, user = sop.office, found.users
    kepala = Position.objects.get(office=office, name__startswith="Kepala")
    listed = [
        ("staf", reverse("inbox"), "inbox (staff)"),
        ("kepala", reverse("inbox"), "inbox (head)"),
        ("plh", reverse("inbox"), "inbox (Plh)"),
        ("staf", reverse("run-list"), "run list"),
        ("staf", reverse("run-start"), "start a run"),
        ("staf", reverse("sop-list"), "SOP catalogue"),
        ("staf", reverse("sop-detail", args=[sop.kode]), "SOP page"),
        ("staf", reverse("upcoming"), "upcoming"),
        ("kepala", reverse("approvals"), "approvals"),
        ("kepala", reverse("overdue"), "overdue"),
        *[("kepala", reverse("run-detail", args=[run.pk]), f"run page ({state})") for state, run in runs.items()],
        *[("kepala", reverse("task-detail", args=[task.pk]), f"task page ({state})") for state, task in tasks.items()],
        ("staf", reverse("task-detail", args=[tasks["redo"].pk]), "task form of the redone step"),
        ("kepala", reverse("task-detail", args=[tasks["decision"].pk]), "task form of the decision"),
        # The admin: every page of these objects that shows their texts.
        ("admin", reverse("admin:procedures_office_changelist"), "admin: offices"),
        ("admin", reverse("admin:procedures_office_change", args=[office.pk]), "admin: office"),
        ("admin", reverse("admin:procedures_position_changelist"), "admin: positions"),
        ("admin", reverse("admin:procedures_position_change", args=[kepala.pk]), "admin: position"),
        ("admin", reverse("admin:procedures_holiday_changelist"), "admin: holidays"),
        ("admin", reverse("admin:procedures_actingassignment_changelist"), "admin: Plt/Plh"),
        ("admin", reverse("admin:procedures_actingassignment_change",
                          args=[ActingAssignment.objects.get(position=kepala).pk]), "admin: Plh"),
        ("admin", reverse("admin:auth_user_changelist"), "admin: users"),
        ("admin", reverse("admin:auth_user_change", args=[user["kepala"].pk]), "admin: user"),
        ("admin", reverse("admin:procedures_sop_changelist"), "admin: SOPs"),
        ("admin", reverse("admin:procedures_sop_change", args=[sop.pk]), "admin: SOP"),
        ("admin", reverse("admin:procedures_soprevision_changelist"), "admin: revisions"),
        ("admin", reverse("admin:procedures_soprevision_change", args=[revision.pk]), "admin: revision"),
        ("admin", reverse("admin:procedures_run_changelist"), "admin: runs"),
        ("admin", reverse("admin:procedures_run_change", args=[runs["sent back"].pk]), "admin: run"),
        ("admin", reverse("admin:procedures_run_cancel", args=[runs["waiting"].pk]), "admin: cancel a run"),
        ("admin", reverse("admin:procedures_task_changelist"), "admin: tasks"),
        ("admin", reverse("admin:procedures_event_changelist"), "admin: events"),
        ("admin", reverse("admin:procedures_position_changelist") + "?_popup=1&_to_field=id", "admin: position popup"),
    ]
    return [Page(*row) for row in listed]


def pdfs(found: Scenario) -> list[tuple[str, str]]:
    """The two PDFs: the sheet and a run report (a run that went back and forth), as (user, url)."""
    return [("staf", reverse("sop-pdf", args=[found.sop.kode])),
            ("kepala", reverse("run-pdf", args=[found.runs["sent back"].pk]))]
