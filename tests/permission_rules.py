"""The rules of the permission matrix (tests/test_permission_matrix.py): for every URL pattern, the
objects to try it with and what each person must get, derived from procedures.permissions, the
engine's states and the admin's permission model — not listed by hand per cell.

Adding a URL to the site means adding its rule here: to SITE_RULES, to ADMIN_RULES, or (a model
newly registered in the admin) to ADMIN_POLICY. A rule is built from the helpers below
(``signed_in``, ``post_only``, ``seeing_task``, ``seeing_run``, ``admin_view``, …), each the code
form of a sentence of the rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.admin.utils import get_deleted_objects
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from procedures import engine, permissions, staffing
from procedures.authoring import drafts as authoring
from procedures.models import (
    ActingAssignment,
    Event,
    Holiday,
    Office,
    Position,
    Run,
    Sop,
    SopDraft,
    SopRevision,
    Task,
)
from tests import matrix_world
from tests.matrix_world import (
    ADMIN_OBJECTS,
    ADMIN_SINGLE,
    APPROVAL_TASKS,
    DRAFTS,
    FILES,
    MISSING_PK,
    REVISIONS,
    RUNS,
    SHEETS,
    SOPS,
    TASKS,
    World,
)

User = get_user_model()


# ---------------------------------------------------------------------------------------------
# Expected outcomes
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    """What a cell must answer: one of ``statuses``, the redirect target, whether it wrote."""

    statuses: frozenset[int]
    why: str
    wrote: bool | None = False  # None: either (a permitted form posted with partial data)
    location: str | None = None  # the start of the Location header
    csrf_page: bool = False

    def __str__(self) -> str:
        codes = "/".join(str(code) for code in sorted(self.statuses))
        where = f" to {self.location}" if self.location else ""
        writes = {True: ", writes", False: ", writes nothing", None: ""}[self.wrote]
        return f"{codes}{where}{writes} ({self.why})"


def page(why: str = "may see it") -> Expect:
    return Expect(frozenset({200}), why)


def done(location: str | None, why: str = "may do it", *, status: int = 302) -> Expect:
    return Expect(frozenset({status}), why, wrote=True, location=location)


def accepted(why: str = "may post it (partial data: a form error or a change)") -> Expect:
    return Expect(frozenset({200, 302}), why, wrote=None)


def redirect(location: str, why: str, *, status: int = 302) -> Expect:
    return Expect(frozenset({status}), why, location=location)


def forbidden(why: str) -> Expect:
    return Expect(frozenset({403}), why)


def refused(status: int, why: str) -> Expect:
    return Expect(frozenset({status}), why)


def missing(why: str = "no such object") -> Expect:
    return Expect(frozenset({404}), why)


def not_allowed(why: str = "wrong method") -> Expect:
    return Expect(frozenset({405}), why)


def to_login(path: str) -> Expect:
    return redirect(f"/masuk/?next={quote(path)}", "not signed in")


def to_admin_login(path: str) -> Expect:
    return redirect(f"/admin/login/?next={quote(path)}", "not signed in as staff")


CSRF_REFUSAL = Expect(frozenset({403}), "no CSRF token", csrf_page=True)


# ---------------------------------------------------------------------------------------------
# Who the user is, by the rules (procedures.permissions), read once per person
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Who:
    label: str
    user: object | None
    acts_for: frozenset[int]  # positions the user holds or acts for today
    offices: frozenset[int]
    head: bool  # holds or acts for a position above staff somewhere

    @property
    def anonymous(self) -> bool:
        return self.user is None

    @property
    def superuser(self) -> bool:
        return bool(self.user and self.user.is_active and self.user.is_superuser)

    @property
    def staff(self) -> bool:
        return bool(self.user and self.user.is_active and self.user.is_staff)

    def has_perm(self, name: str) -> bool:
        return bool(self.user and self.user.has_perm(name))


def who_is(world: World, label: str) -> Who:
    user = world.user(label)
    if user is None:
        return Who(label, None, frozenset(), frozenset(), False)
    acting = [position for position in world.positions() if permissions.standing(user, position)[0]]
    return Who(label, user, frozenset(p.pk for p in acting), frozenset(p.office_id for p in acting),
               any(p.level < Position.Level.STAFF for p in acting))


# ---------------------------------------------------------------------------------------------
# The site's rules
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One object of a rule: the path to request and the POST data, for a label of the world."""

    path: str
    data: dict


@dataclass(frozen=True)
class Rule:
    """Who may use a URL pattern: the objects to try it with and the outcome for each person."""

    objects: tuple[str, ...]
    cell: Callable[[World, str], Cell]
    expect: Callable[[World, Who, str, str, Cell], Expect]
    get_once: bool = False  # the object only changes what is posted: GET it once


def signed_in(rule):
    """``@login_required``: anonymous goes to the sign-in page, whatever the method."""

    def expect(world, who, label, method, cell):
        return to_login(cell.path) if who.anonymous else rule(world, who, label, method, cell)

    return expect


def post_only(rule):
    """``@require_POST`` (inside ``@login_required``)."""

    def expect(world, who, label, method, cell):
        return not_allowed() if method == "GET" else rule(world, who, label, method, cell)

    return expect


def any_page(world, who, label, method, cell) -> Expect:
    """A page without a method restriction: a POST shows it as a GET does, and writes nothing."""
    return page("a signed-in user's own page")


def heads_only(rule):
    def expect(world, who, label, method, cell):
        if not (who.superuser or who.head):
            return forbidden("holds no position above staff")
        return rule(world, who, label, method, cell)

    return expect


def fixed(path: str, data: dict | None = None) -> Callable[[World, str], Cell]:
    return lambda world, label: Cell(path, data or {})


# Tasks ------------------------------------------------------------------------------------------


def task_of(world: World, label: str) -> Task | None:
    task = world.tasks[label]
    if task is None:
        return None
    return Task.objects.select_related("run__revision", "position__office", "step", "previous__position").get(
        pk=task.pk)


def task_pk(world: World, label: str) -> int:
    task = world.tasks[label]
    return task.pk if task is not None else MISSING_PK


def task_work_data(task: Task | None, prefix: str = "") -> dict:
    """What a holder sends to complete the task: every item ticked, an output, Ya on a decision."""
    if task is None:
        return {f"{prefix}output_text": "Laporan"}
    data = {f"{prefix}ticked": [str(pk) for pk in task.step.kelengkapan.values_list("pk", flat=True)],
            f"{prefix}output_text": "Laporan", f"{prefix}note": ""}
    if task.step.is_decision:
        data.update({f"{prefix}decision": "ya", f"{prefix}reason": ""})
    return data


def may_see_task(who: Who, task: Task) -> bool:
    """selectors.visible_task, by the rules: an admin, the claimer, whoever may act for its
    position, or a head of that position in the task's SOP."""
    return (who.superuser or task.assignee_id == who.user.pk or task.position_id in who.acts_for
            or permissions.is_head(who.user, task.run.revision, task.position))


def seeing_task(rule):
    def expect(world, who, label, method, cell):
        task = task_of(world, label)
        if task is None:
            return missing()
        if not may_see_task(who, task):
            return forbidden("not their position's task, nor a head of it in this SOP")
        return rule(world, who, task, method, cell)

    return expect


def closed(task: Task) -> str | None:
    if task.run.status != Run.Status.RUNNING:
        return f"the run is {task.run.status}"
    if not task.is_open:
        return f"the task is {task.status}"
    return None


def work_outcome(who: Who, task: Task, location: str) -> Expect:
    """Completing a task, or answering Ya (engine.task_complete / task_decide)."""
    reason = closed(task)
    if reason:
        return refused(409, reason)
    if task.status == Task.Status.IN_PROGRESS and task.assignee_id != who.user.pk:
        return refused(409, "claimed by someone else")
    refusal = permissions.act_refusal(task, who.user)
    if refusal:
        return refused(403, refusal)
    return done(location, "may act for the task's position")


def claim_outcome(world, who, task, method, cell) -> Expect:
    reason = closed(task) or (None if task.status == Task.Status.WAITING else "already claimed")
    if reason:
        return refused(409, reason)
    refusal = permissions.act_refusal(task, who.user)
    if refusal:
        return refused(403, refusal)
    return done(f"/tugas/{task.pk}/", "may act for the task's position")


def release_outcome(world, who, task, method, cell) -> Expect:
    reason = closed(task) or (None if task.status == Task.Status.IN_PROGRESS else "nobody claimed it")
    if reason:
        return refused(409, reason)
    if task.assignee_id == who.user.pk:
        return done(f"/tugas/{task.pk}/", "claimed it")
    if permissions.head_standing(who.user, task.run.revision, task.position)[0]:
        return done(f"/tugas/{task.pk}/", "a head of the task's position")
    return refused(403, "neither the claimer nor a head")


def complete_outcome(world, who, task, method, cell) -> Expect:
    # Then the next step if it is theirs too, else the inbox: somewhere on the site.
    return work_outcome(who, task, "/")


def return_outcome(world, who, task, method, cell) -> Expect:
    """Kembalikan (engine.task_return): the rules in the engine's order."""
    reason = closed(task)
    if reason:
        return refused(409, reason)
    finished = Task.objects.filter(run_id=task.run_id, status__in=(Task.Status.DONE, Task.Status.SENT_BACK))
    if engine.return_target(task, finished.select_related("step")) is None:
        return refused(400, "the first step has no step before it")
    if task.status == Task.Status.IN_PROGRESS and task.assignee_id != who.user.pk:
        return refused(409, "claimed by someone else")
    refusal = permissions.act_refusal(task, who.user)
    if refusal:
        return refused(403, refusal)
    return done(f"/pelaksanaan/{task.run_id}/", "may act for the task's position")


def reassign_target(task: Task | None):
    """Whom the matrix gives a task to: its position's first active holder."""
    if task is None:
        return None
    return task.position.holders.filter(is_active=True).order_by("pk").first()


def reassign_outcome(world, who, task, method, cell) -> Expect:
    """A head gives the open task to a named holder (engine.task_reassign)."""
    to_user = reassign_target(task)
    if to_user is None:
        return refused(400, "the position has no holder to give it to")
    reason = closed(task)
    if reason:
        return refused(409, reason)
    if not permissions.head_standing(who.user, task.run.revision, task.position)[0]:
        return refused(403, "not a head of the task's position")
    if permissions.act_refusal(task, to_user):
        return refused(400, "the holder may not take it")
    return done(f"/tugas/{task.pk}/", "a head of the task's position")


def reassign_cell(world, label) -> Cell:
    to_user = reassign_target(task_of(world, label))
    return Cell(f"/tugas/{task_pk(world, label)}/alihkan/", {"to_user": str(to_user.pk) if to_user else ""})


def is_approval(task: Task) -> bool:
    """selectors.approval_filter: a decision, or a step moving the run up to a higher rank."""
    return task.step.is_decision or (task.previous is not None
                                     and task.position.level < task.previous.position.level)


def approval_expect(*, bulk: bool):
    def expect(world, who, label, method, cell):
        if method == "GET":
            return page("a head's approvals")
        task = task_of(world, label)
        if task is None:
            outcome, why = missing(), "no such task"
        elif not may_see_task(who, task):
            outcome, why = forbidden("not their task"), "not their task"
        elif not is_approval(task):
            outcome, why = missing("not an approval"), "not an approval"
        else:
            outcome = work_outcome(who, task, "/persetujuan/")
            why = outcome.why
        if not bulk:
            return outcome
        # "Approve selected" goes back to the page when all went well; a refused item is shown
        # on the page again, beside its item.
        if outcome.wrote is True:
            return Expect(frozenset({302}), why, wrote=True, location="/persetujuan/")
        return Expect(frozenset({200}), why, wrote=False)

    return signed_in(heads_only(expect))


def approval_cell(*, bulk: bool):
    def cell(world, label):
        task, pk = task_of(world, label), task_pk(world, label)
        data = task_work_data(task, prefix=f"t{pk}-")
        data.update({"selected": [str(pk)]} if bulk else {"act": f"{pk}:ya"})
        return Cell("/persetujuan/setujui/" if bulk else "/persetujuan/", data)

    return cell


def task_cell(suffix: str, *, work: bool = False, reason: bool = False):
    def cell(world, label):
        data = task_work_data(task_of(world, label)) if work else {"reason": "Uji matriks"} if reason else {}
        return Cell(f"/tugas/{task_pk(world, label)}/{suffix}", data)

    return cell


def file_expect(world, who, label, method, cell) -> Expect:
    task_file = world.files[label]
    if task_file is None:
        return missing()
    if who.superuser or task_file.task.run.office_id in who.offices:
        return page("a file of a run of their office")
    return forbidden("a file of another office's run")


def file_cell(world, label) -> Cell:
    task_file = world.files[label]
    return Cell(f"/berkas/{task_file.pk if task_file else MISSING_PK}/", {})


# Runs -------------------------------------------------------------------------------------------


def run_of(world: World, label: str) -> Run | None:
    run = world.runs[label]
    return Run.objects.select_related("revision", "office").get(pk=run.pk) if run is not None else None


def run_cell(suffix: str, data: dict | None = None):
    def cell(world, label):
        run = world.runs[label]
        return Cell(f"/pelaksanaan/{run.pk if run else MISSING_PK}/{suffix}", data or {})

    return cell


def seeing_run(rule):
    """selectors.visible_run: a run of an office where the user holds or acts for a position."""

    def expect(world, who, label, method, cell):
        run = run_of(world, label)
        if run is None:
            return missing()
        if not (who.superuser or run.office_id in who.offices):
            return forbidden("a run of another office")
        return rule(world, who, run, method, cell)

    return expect


def cancel_outcome(world, who, run, method, cell) -> Expect:
    if run.status != Run.Status.RUNNING:
        return refused(409, f"the run is {run.status}")
    if not permissions.may_cancel_run(run, who.user):
        return refused(403, "not the starter, a head of the first step nor an admin")
    return done(f"/pelaksanaan/{run.pk}/", "may cancel the run")


def start_expect(world, who, label, method, cell) -> Expect:
    if method == "GET":
        return page("anyone signed in may open the start page")
    refusal = permissions.start_refusal(world.revisions[label], who.user)
    if refusal:
        return refused(400, refusal)  # the SOP is not among the form's choices
    # On step 1 when it is theirs, else the run's page.
    return done("/", "may do the first step")


def start_cell(world, label) -> Cell:
    return Cell("/pelaksanaan/mulai/", {"revision": str(world.revisions[label].pk), "perihal": "Uji matriks"})


# SOPs -------------------------------------------------------------------------------------------


def sop_expect(world, who, label, method, cell) -> Expect:
    """selectors.visible_sop: 404 when no office has the kode, 403 when only other offices do."""
    sops = list(Sop.objects.filter(kode=world.sops[label]))
    if not sops:
        return missing()
    offices = who.offices | (authoring.editor_office_ids(who.user) or set() if who.user else set())
    if who.superuser or any(sop.office_id in offices for sop in sops):
        return page("an SOP of their office (or of an office whose SOPs they write)")
    return forbidden("an SOP of another office")


def sop_cell(suffix: str):
    return lambda world, label: Cell(f"/sop/{world.sops[label]}/{suffix}", {})


# Signing in and out -----------------------------------------------------------------------------


def login_expect(world, who, label, method, cell) -> Expect:
    if who.anonymous:
        return page("the sign-in form (an empty one is an error)")
    return redirect("/", "already signed in")


def logout_expect(world, who, label, method, cell) -> Expect:
    return not_allowed("signing out is a POST") if method == "GET" else redirect("/masuk/", "signs out")


def template_page_get_only(world, who, label, method, cell) -> Expect:
    return page() if method == "GET" else not_allowed("a page without a form")


def password_reset_expect(world, who, label, method, cell) -> Expect:
    if method == "GET":
        return page("anyone may ask for a reset link")
    return redirect("/akun/lupa-kata-sandi/terkirim/", "the same answer whether the address is known or not")


def reset_link_expect(world, who, label, method, cell) -> Expect:
    return page("a link that is not valid says so (for every method)")


def set_language_expect(world, who, label, method, cell) -> Expect:
    return redirect("/", "the language switch (a cookie, nothing written)")


# Monev's monitoring sheets --------------------------------------------------------------------


def _scope(who):
    """procedures.monitoring.scope: which offices' figures the person sees (None: only their own)."""
    from procedures import selectors
    from procedures.monitoring.scope import monitoring_scope

    scope = monitoring_scope(who.user, selectors.standing_of(who.user))
    return None if scope.own_only else scope.office_ids


def _heads(who, office) -> bool:
    """procedures.monitoring.sheets: a head of the office itself (held or Plt/Plh today) prepares and signs."""
    from procedures.monitoring import sheets

    return sheets.head_title(who.user, office) is not None


def sheets_cell(world, label) -> Cell:
    from procedures.monitoring.scope import semester_of

    return Cell("/pemantauan/formulir/", {"office": str(world.sheets["A-draft"].office_id),
                                          "periode": semester_of(timezone.localdate()).key})


def sheets_expect(world, who, label, method, cell) -> Expect:
    if _scope(who) is None:
        return forbidden("sees only their own figures")
    if method == "GET":
        return page("heads, monev staff and admins")
    draft = world.sheets["A-draft"]
    if _heads(who, draft.office):
        return redirect(f"/pemantauan/formulir/{draft.pk}/", "the head opens the office's draft there is")
    return redirect("/pemantauan/formulir/", "not a head of that office: a message, nothing written")


def sheet_cell(suffix: str, data: dict | None = None):
    def cell(world, label):
        sheet = world.sheets[label]
        return Cell(f"/pemantauan/formulir/{sheet.pk if sheet else MISSING_PK}/{suffix}", data or {})

    return cell


def seeing_sheet(rule):
    """A sheet of an office whose figures the person sees (not someone who sees only their own)."""

    def expect(world, who, label, method, cell):
        sheet = world.sheets[label]
        if sheet is None:
            return missing()
        offices = _scope(who)
        if offices is None or sheet.office_id not in offices:
            return forbidden("a sheet of an office whose figures they do not see")
        return rule(world, who, sheet, method, cell)

    return expect


def sheet_outcome(world, who, sheet, method, cell) -> Expect:
    if method == "GET":
        return page()
    if not _heads(who, sheet.office):
        return forbidden("only the office's head saves and signs")
    if sheet.is_signed:
        return refused(409, "a signed sheet is locked")
    return done(f"/pemantauan/formulir/{sheet.pk}/", "the head saves the draft")


def supersede_outcome(world, who, sheet, method, cell) -> Expect:
    if not _heads(who, sheet.office):
        return forbidden("only the office's head supersedes")
    if not sheet.is_signed:
        return refused(409, "a draft is not superseded")
    return done("/pemantauan/formulir/", "a new draft with the reason")


def safe_only(rule):
    """``@require_safe`` inside ``@login_required``: a POST is 405 whatever the object."""

    def expect(world, who, label, method, cell):
        return not_allowed() if method != "GET" else rule(world, who, label, method, cell)

    return expect


SITE_RULES: dict[str, Rule] = {
    "inbox": Rule(("-",), fixed("/"), signed_in(any_page)),
    "login": Rule(("-",), fixed("/masuk/"), login_expect),
    "logout": Rule(("-",), fixed("/keluar/"), logout_expect),
    "password_change": Rule(("-",), fixed("/akun/kata-sandi/"), signed_in(any_page)),
    "password_change_done": Rule(("-",), fixed("/akun/kata-sandi/selesai/"), signed_in(template_page_get_only)),
    "password_reset": Rule(("-",), fixed("/akun/lupa-kata-sandi/", {"email": "tidak-ada@contoh.go.id"}),
                           password_reset_expect),
    "password_reset_done": Rule(("-",), fixed("/akun/lupa-kata-sandi/terkirim/"), template_page_get_only),
    "password_reset_confirm": Rule(("-",), fixed("/akun/atur-ulang/MQ/tautan-tidak-sah/"), reset_link_expect),
    "password_reset_complete": Rule(("-",), fixed("/akun/atur-ulang/selesai/"), template_page_get_only),
    "set_language": Rule(("-",), fixed("/i18n/setlang/", {"language": "id"}), set_language_expect),
    "task-detail": Rule(TASKS, task_cell(""), signed_in(seeing_task(lambda w, who, t, m, c: page()))),
    "task-claim": Rule(TASKS, task_cell("ambil/"), signed_in(post_only(seeing_task(claim_outcome)))),
    "task-release": Rule(TASKS, task_cell("lepas/"), signed_in(post_only(seeing_task(release_outcome)))),
    "task-complete": Rule(TASKS, task_cell("selesaikan/", work=True),
                          signed_in(post_only(seeing_task(complete_outcome)))),
    "task-return": Rule(TASKS, task_cell("kembalikan/", reason=True), signed_in(post_only(seeing_task(return_outcome)))),
    "task-reassign": Rule(TASKS, reassign_cell, signed_in(post_only(seeing_task(reassign_outcome)))),
    "task-file": Rule(FILES, file_cell, signed_in(file_expect)),
    "run-list": Rule(("-",), fixed("/pelaksanaan/"), signed_in(any_page)),
    "run-start": Rule(REVISIONS, start_cell, signed_in(start_expect), get_once=True),
    "run-detail": Rule(RUNS, run_cell(""), signed_in(seeing_run(lambda w, who, r, m, c: page()))),
    "run-cancel": Rule(RUNS, run_cell("batalkan/", {"reason": "Uji matriks"}),
                       signed_in(post_only(seeing_run(cancel_outcome)))),
    "run-pdf": Rule(RUNS, lambda world, label: Cell(run_cell("")(world, label).path + "pdf", {}),
                    signed_in(seeing_run(lambda w, who, r, m, c: page()))),
    "approvals": Rule(APPROVAL_TASKS, approval_cell(bulk=False), approval_expect(bulk=False), get_once=True),
    "approvals-bulk": Rule(APPROVAL_TASKS, approval_cell(bulk=True), signed_in(post_only(approval_expect(bulk=True)))),
    "upcoming": Rule(("-",), fixed("/akan-datang/"), signed_in(any_page)),
    "overdue": Rule(("-",), fixed("/terlambat/"), signed_in(heads_only(any_page))),
    # Monev: every signed-in user sees figures (a staff member only his own; procedures.monitoring.scope,
    # whose refusals of another office's filters are tested in tests/test_views_monitoring.py); GET only.
    "monitoring": Rule(("-",), fixed("/pemantauan/"), signed_in(template_page_get_only)),
    "monitoring-export": Rule(("-",), fixed("/pemantauan/unduh/langkah.xlsx"), signed_in(template_page_get_only)),
    "monitoring-sheets": Rule(("-",), sheets_cell, signed_in(sheets_expect)),
    "monitoring-sheet": Rule(SHEETS, sheet_cell("", {"action": "save"}), signed_in(seeing_sheet(sheet_outcome))),
    "monitoring-sheet-supersede": Rule(SHEETS, sheet_cell("ganti/", {"reason": "Uji matriks"}),
                                       signed_in(post_only(seeing_sheet(supersede_outcome)))),
    "monitoring-sheet-pdf": Rule(SHEETS, lambda world, label: Cell(sheet_cell("")(world, label).path + "pdf", {}),
                                 signed_in(safe_only(seeing_sheet(lambda w, who, s, m, c: page())))),
    "sop-list": Rule(("-",), fixed("/sop/"), signed_in(any_page)),
    "sop-detail": Rule(SOPS, sop_cell(""), signed_in(sop_expect)),
    "sop-pdf": Rule(SOPS, lambda world, label: Cell(f"/sop/{world.sops[label]}/pdf", {}), signed_in(sop_expect)),
}

# SOP drafts (procedures.authoring.drafts) ----------------------------------------------------------


def is_editor(who: Who) -> bool:
    """An SOP editor somewhere: an admin, or the edit_sop_draft permission and an office."""
    return bool(who.user) and authoring.editor_office_ids(who.user) != set()


def editors_only(rule):
    def expect(world, who, label, method, cell):
        if not is_editor(who):
            return forbidden("no SOP editor permission in any office")
        return rule(world, who, label, method, cell)

    return expect


def draft_of(world: World, label: str) -> SopDraft | None:
    draft = world.drafts[label]
    return SopDraft.objects.select_related("office", "signer_position__office", "sop").get(pk=draft.pk) if draft else None


def draft_cell(suffix: str, data: dict | None = None):
    def cell(world, label):
        draft = world.drafts[label]
        return Cell(f"/draf/{draft.pk if draft else MISSING_PK}/{suffix}", data or {})

    return cell


def seeing_draft(rule):
    """authoring.selectors.visible_draft: the office's editors, and once submitted its signer's people."""

    def expect(world, who, label, method, cell):
        draft = draft_of(world, label)
        if draft is None:
            return missing()
        if not authoring.may_view(draft, who.user):
            return forbidden("a draft of another office, or not yet submitted to a position of theirs")
        return rule(world, who, draft, method, cell)

    return expect


def editing_draft(rule):
    def expect(world, who, draft, method, cell):
        if not authoring.may_edit_office(who.user, draft.office_id):
            return forbidden("not an SOP editor of the draft's office")
        return rule(world, who, draft, method, cell)

    return expect


def edit_expect(world, who, draft, method, cell) -> Expect:
    if not draft.editable:
        return redirect(f"/draf/{draft.pk}/pengesahan/", "submitted or approved: the signer's page")
    if method == "GET":
        return page("the editor")
    return done(f"/draf/{draft.pk}/", "saves the draft (incomplete is allowed)")


def sign_expect(location: Callable[[SopDraft], str]):
    def expect(world, who, draft, method, cell):
        if draft.status != SopDraft.Status.SUBMITTED:
            return refused(409, f"the draft is {draft.status}")
        refusal = authoring.sign_refusal(draft, who.user)
        if refusal:
            return refused(403, refusal)
        return done(location(draft), "holds or acts for the signer position, and did not write it")

    return expect


def sop_draft_expect(world, who, label, method, cell) -> Expect:
    """Ubah / Salin: an SOP of an office whose SOPs the user writes."""
    sops = list(Sop.objects.filter(kode=world.sops[label]))
    if not sops:
        return missing()
    ids = authoring.editor_office_ids(who.user)
    if ids is not None and not any(sop.office_id in ids for sop in sops):
        return forbidden("not an SOP editor of the SOP's office")
    return done("/draf/", "a draft of it")


def create_expect(world, who, label, method, cell) -> Expect:
    if authoring.editor_offices(who.user).count() > 1:
        return refused(400, "writes for several offices and chose none")
    return done("/draf/", "a new draft of their office")


def word_expect(world, who, label, method, cell) -> Expect:
    return refused(400, "no file: the list page says so")


SITE_RULES.update({
    "draft-list": Rule(("-",), fixed("/draf/"), signed_in(editors_only(any_page))),
    "draft-create": Rule(("-",), fixed("/draf/baru/"), signed_in(post_only(editors_only(create_expect)))),
    "draft-word": Rule(("-",), fixed("/draf/impor-word/"), signed_in(post_only(editors_only(word_expect)))),
    "draft-revise": Rule(SOPS, sop_cell("ubah/"), signed_in(post_only(sop_draft_expect))),
    "draft-copy": Rule(SOPS, sop_cell("salin/"), signed_in(post_only(sop_draft_expect))),
    "draft-edit": Rule(DRAFTS, draft_cell("", {"kode": "uji-matriks", "nama": "Uji matriks"}),
                       signed_in(seeing_draft(editing_draft(edit_expect)))),
    "draft-preview": Rule(DRAFTS, draft_cell("pratinjau/"), signed_in(post_only(seeing_draft(editing_draft(
        lambda w, who, d, m, c: page("the sheet and the messages, nothing written")))))),
    "draft-review": Rule(DRAFTS, draft_cell("pengesahan/"), signed_in(seeing_draft(
        lambda w, who, d, m, c: page("the sheet as it will print")))),
    "draft-approve": Rule(DRAFTS, draft_cell("sahkan/"), signed_in(post_only(seeing_draft(
        sign_expect(lambda draft: "/sop/")))), get_once=True),
    "draft-return": Rule(DRAFTS, draft_cell("kembalikan/", {"reason": "Uji matriks"}), signed_in(post_only(
        seeing_draft(sign_expect(lambda draft: f"/draf/{draft.pk}/pengesahan/"))))),
})


# ---------------------------------------------------------------------------------------------
# The admin's rules
# ---------------------------------------------------------------------------------------------

PERM, NOBODY, SUPERUSER, PERM_AND_CHANGE = "perm", "nobody", "superuser", "add and change perms"


@dataclass(frozen=True)
class Policy:
    """What the admin allows on a model beyond viewing (which needs the view or change permission):
    PERM — the Django permission; NOBODY — not even a superuser (history); SUPERUSER — only one."""

    add: str = PERM
    change: str = PERM
    delete: str = PERM


HISTORY = Policy(add=NOBODY, change=NOBODY, delete=NOBODY)
ADMIN_POLICY: dict[type, Policy] = {
    Group: Policy(),
    User: Policy(add=PERM_AND_CHANGE),  # adding a user is as strong as changing one (Django)
    # Lockouts are only seen and lifted ("Buka kunci"); axes' own logs are not in the admin.
    AccessAttempt: Policy(add=NOBODY, change=NOBODY),
    Office: Policy(), Position: Policy(), Holiday: Policy(),
    ActingAssignment: Policy(delete=SUPERUSER),  # tasks and events point at appointments
    SopRevision: HISTORY,
    Sop: Policy(add=NOBODY, change=NOBODY),  # made and changed by importing its file
    Run: HISTORY, Task: HISTORY, Event: HISTORY,  # the engine changes them; cancelling is a view
}


def codename(model: type, action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def may_view(who: Who, model: type) -> bool:
    return who.has_perm(codename(model, "view")) or who.has_perm(codename(model, "change"))


def may(who: Who, model: type, action: str) -> bool:
    rule = getattr(ADMIN_POLICY[model], action)
    if rule == NOBODY:
        return False
    if rule == SUPERUSER:
        return who.superuser
    if rule == PERM_AND_CHANGE:
        return who.has_perm(codename(model, action)) and who.has_perm(codename(model, "change"))
    return who.has_perm(codename(model, action))


def admin_view(rule):
    """``AdminSite.admin_view``: active staff only, else the admin's sign-in page."""

    def expect(world, who, label, method, cell):
        return rule(world, who, label, method, cell) if who.staff else to_admin_login(cell.path)

    return expect


def admin_url(model: type) -> str:
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/"


def admin_row(world: World, model: type, label: str):
    return world.admin_rows[model][label]


def admin_pk(world: World, model: type, label: str) -> str:
    row = admin_row(world, model, label)
    return str(row.pk if row is not None else MISSING_PK)


TO_INDEX = "/admin/"


def deletion(world: World, who: Who, model: type, row, *, location: str) -> Expect:
    """Confirmed deletion: protected rows stay (200), rows it would cascade to need permissions too."""
    request = RequestFactory().post("/")
    request.user = who.user
    _deleted, _counts, perms_needed, protected = get_deleted_objects([row], request, admin.site)
    if protected:
        return Expect(frozenset({200}), "protected by rows pointing at it")
    if perms_needed:
        return forbidden(f"would also delete {', '.join(sorted(map(str, perms_needed)))}")
    return done(location, "may delete it")


def may_appoint(who: Who, position: Position) -> bool:
    """engine.acting_appoint: an admin, a head above the position in its office, or its holder."""
    return who.superuser or permissions.holds(who.user, position) or any(
        permissions.standing(who.user, head)[0]
        for head in Position.objects.filter(office=position.office, level__lt=position.level))


def today_a() -> dt.date:
    return timezone.localdate(timezone=Office.objects.get(name=matrix_world.OFFICE_A).zoneinfo)


# Valid form data for some models: there a permitted POST must write; elsewhere {} (a form error).
def add_data(world: World, model: type) -> tuple[dict, Callable[[Who], bool] | None]:
    if model is Holiday:
        return {"office": "", "date": "2032-01-02", "name": "Libur uji"}, lambda who: True
    if model is Group:
        return {"name": "Grup uji"}, lambda who: True
    if model is ActingAssignment:
        position = world.admin_rows[Position]["A"]
        # A Plt (the Kabid's Plh of today is taken) from the office's own people.
        appointee = world.user(next(label for label in world.people if label.startswith("holder:A:")
                                    and not label.endswith(":Kabid")))
        return ({"office": position.office_id, "position": position.pk, "user": appointee.pk, "kind": "plt",
                 "starts_on": today_a().isoformat(), "ends_on": today_a().isoformat(), "reason": "uji"},
                lambda who: may_appoint(who, position))
    return {}, None


def change_data(world: World, model: type, row) -> dict | None:
    if row is None:
        return None
    if model is Holiday:
        return {"office": row.office_id or "", "date": row.date.isoformat(), "name": f"{row.name} (ubah)"}
    if model is Group:
        return {"name": row.name, "permissions": [str(pk) for pk in row.permissions.values_list("pk", flat=True)]}
    if model is ActingAssignment:
        return {"ends_on": row.ends_on.isoformat(), "reason": "koreksi"}
    return None


def changelist_data(world: World, model: type) -> dict:
    row = next(iter(world.admin_rows[model].values()))
    data = {"action": "delete_selected", "_selected_action": [str(row.pk)], "index": "0", "post": "yes"}
    if model is Run:
        data.update({"action": "cancel_runs", "reason": "Uji matriks"})
    if model is AccessAttempt:
        data["action"] = "unlock"  # the lockouts' list offers "Buka kunci" instead of deleting
    return data


def model_rules(model: type) -> dict[str, Rule]:
    """The standard admin views of a registered model: changelist, add, history, delete, change
    and the bare object URL (a redirect to its change page)."""
    base = admin_url(model)
    labels = ADMIN_SINGLE if model in matrix_world.SINGLE_ROW_MODELS else ADMIN_OBJECTS

    def changelist(world, who, label, method, cell):
        if not may_view(who, model):
            return forbidden("no view permission")
        if method == "GET":
            return page("may view the list")
        row = next(iter(world.admin_rows[model].values()))
        if model is Run:
            run = run_of(world, "A-running")
            allowed = permissions.may_cancel_run(run, who.user)
            return Expect(frozenset({302}), "cancel through the engine", wrote=allowed, location=base)
        if not may(who, model, "delete"):
            return Expect(frozenset({200, 302}), "no delete action for them")
        return deletion(world, who, model, row, location=base)  # the list, where the action was chosen

    def add(world, who, label, method, cell):
        if not may(who, model, "add"):
            return forbidden("may not add")
        if method == "GET":
            return page("may add")
        _data, writes = add_data(world, model)
        if writes is None:
            return Expect(frozenset({200}), "an empty form is an error")
        return done(base, "a valid form") if writes(who) else Expect(frozenset({200}), "the engine refuses")

    def history(world, who, label, method, cell):
        if admin_row(world, model, label) is None:
            return redirect(TO_INDEX, "no such object")
        return page("may view it") if may_view(who, model) else forbidden("no view permission")

    def delete(world, who, label, method, cell):
        row = admin_row(world, model, label)
        if not may(who, model, "delete"):
            return forbidden("may not delete")
        if row is None:
            return redirect(TO_INDEX, "no such object")
        if method == "GET":
            return page("may delete it")
        # Then to the list, or to the index for whoever may not change rows there (Django's choice).
        return deletion(world, who, model, row, location=base if may(who, model, "change") else TO_INDEX)

    def change(world, who, label, method, cell):
        row = admin_row(world, model, label)
        if method == "GET":
            if not may_view(who, model):
                return forbidden("no view permission")
            return page("may view it") if row is not None else redirect(TO_INDEX, "no such object")
        if not may(who, model, "change"):
            return forbidden("may not change")
        if row is None:
            return redirect(TO_INDEX, "no such object")
        if change_data(world, model, row) is None:
            return accepted()
        return done(base, "a valid form")

    def object_redirect(world, who, label, method, cell):
        return redirect(f"{base}{admin_pk(world, model, label)}/change/", "the object's change page")

    def cell_at(suffix: str, data: Callable[[World, str], dict | None] = lambda world, label: None):
        return lambda world, label: Cell(base + suffix.format(pk=admin_pk(world, model, label)),
                                         data(world, label) or {})

    name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    return {
        f"{name}_changelist": Rule(("list",), lambda world, label: Cell(base, changelist_data(world, model)),
                                   admin_view(changelist)),
        f"{name}_add": Rule(("-",), lambda world, label: Cell(base + "add/", add_data(world, model)[0]),
                            admin_view(add)),
        f"{name}_history": Rule(labels, cell_at("{pk}/history/"), admin_view(history)),
        f"{name}_delete": Rule(labels, cell_at("{pk}/delete/", lambda world, label: {"post": "yes"}),
                               admin_view(delete)),
        f"{name}_change": Rule(labels, cell_at("{pk}/change/", lambda world, label: change_data(
            world, model, admin_row(world, model, label))), admin_view(change)),
        f"{base[1:]}<path:object_id>/": Rule(labels, cell_at("{pk}/"), admin_view(object_redirect)),
    }


# The admin site's own views and sopflow's custom admin views.


def admin_login_expect(world, who, label, method, cell) -> Expect:
    if who.staff and method == "GET":
        return redirect(TO_INDEX, "already signed in as staff")
    return page("the admin's sign-in form")


def admin_logout_expect(world, who, label, method, cell) -> Expect:
    if not who.staff:
        return redirect(TO_INDEX, "not staff: the admin index, which asks to sign in")
    return not_allowed("signing out is a POST") if method == "GET" else redirect("/masuk/", "signs out")


AUTOCOMPLETE = {  # label: (source model, field)
    "acting-position": (ActingAssignment, "position"),
    "acting-user": (ActingAssignment, "user"),
    "position-office": (Position, "office"),
    "not-a-relation": (Run, "perihal"),
}


def autocomplete_expect(world, who, label, method, cell) -> Expect:
    if method == "POST":
        return not_allowed("a search is a GET")
    source, field = AUTOCOMPLETE[label]
    remote = getattr(source._meta.get_field(field).remote_field, "model", None)
    if remote is None:
        return forbidden("not a relation")
    return page("may view the related model") if may_view(who, remote) else forbidden("no view permission")


def autocomplete_cell(world, label) -> Cell:
    source, field = AUTOCOMPLETE[label]
    query = f"app_label={source._meta.app_label}&model_name={source._meta.model_name}&field_name={field}&term=a"
    return Cell(f"/admin/autocomplete/?{query}", {})


def app_list_expect(world, who, label, method, cell) -> Expect:
    models = [model for model in ADMIN_POLICY if model._meta.app_label == label]
    if any(may_view(who, model) or may(who, model, "add") or may(who, model, "delete") for model in models):
        return page("has a permission in the app")
    return missing("no permission in the app: as if it did not exist")


def view_on_site_expect(world, who, label, method, cell) -> Expect:
    return missing("sopflow's models have no page of their own on the site")


def view_on_site_cell(world, label) -> Cell:
    run = world.runs["A-running"] if label == "run" else None
    content_type = ContentType.objects.get_for_model(Run)
    return Cell(f"/admin/r/{content_type.pk}/{run.pk if run else MISSING_PK}/", {})


def catch_all_expect(world, who, label, method, cell) -> Expect:
    if label == "no-slash":
        return redirect("/admin/procedures/run/", "the page with its slash", status=301)
    return missing("no such admin page")


def catch_all_cell(world, label) -> Cell:
    return Cell("/admin/procedures/run" if label == "no-slash" else "/admin/tidak-ada/", {})


def import_expect(world, who, label, method, cell) -> Expect:
    if not who.has_perm("procedures.change_sop"):
        return forbidden("importing is changing an SOP: the change_sop permission")
    return page("the import page") if method == "GET" else done(None, "imports the file", status=200)


def import_cell(world, label) -> Cell:
    path = next(matrix_world.SEEDS.glob("002-*.yaml"))
    return Cell("/admin/procedures/sop/import/",
                {"files": SimpleUploadedFile(path.name, path.read_bytes(), content_type="application/yaml")})


def run_cancel_expect(world, who, label, method, cell) -> Expect:
    run = run_of(world, label)
    if run is None:
        return redirect(TO_INDEX, "no such run")
    if not may_view(who, Run):
        return forbidden("no view permission")
    if method == "GET":
        return page("the reason form")
    allowed = run.status == Run.Status.RUNNING and permissions.may_cancel_run(run, who.user)
    return Expect(frozenset({302}), "the engine decides who may cancel", wrote=allowed,
                  location=f"/admin/procedures/run/{run.pk}/change/")


def run_cancel_cell(world, label) -> Cell:
    run = world.runs[label]
    return Cell(f"/admin/procedures/run/{run.pk if run else MISSING_PK}/cancel/",
                {"post": "yes", "reason": "Uji matriks"})


def export_expect(world, who, label, method, cell) -> Expect:
    if label == "missing":
        return missing()
    return page("the SOP file") if may_view(who, SopRevision) else forbidden("no view permission")


def export_cell(world, label) -> Cell:
    revision = world.revisions.get(label)
    return Cell(f"/admin/procedures/soprevision/{revision.pk if revision else MISSING_PK}/export/", {})


def user_password_expect(world, who, label, method, cell) -> Expect:
    if not may(who, User, "change"):
        return forbidden("may not change users")
    if admin_row(world, User, label) is None:
        return missing()
    return page("the password form (an empty one is an error)")


def scoped_autocomplete_cell(world, label) -> Cell:
    return Cell(autocomplete_cell(world, label).path.replace("/admin/autocomplete/",
                                                             "/admin/procedures/position/scoped-autocomplete/"), {})


def readiness_expect(world, who, label, method, cell) -> Expect:
    return page("the readiness of their SOPs") if may_view(who, Sop) else forbidden("no view permission on SOPs")


def may_import_users(who: Who) -> bool:
    return may(who, User, "add") and who.has_perm(codename(User, "change"))


def user_import_expect(world, who, label, method, cell) -> Expect:
    if not may_import_users(who):
        return forbidden("importing people is adding and changing users")
    return page("the import form (an empty one is an error)")


def user_import_template_expect(world, who, label, method, cell) -> Expect:
    if not may_import_users(who):
        return forbidden("importing people is adding and changing users")
    return page("the template to fill in") if label in ("csv", "xlsx") else forbidden("no such template")


def holders_expect(world, who, label, method, cell) -> Expect:
    position = admin_row(world, Position, label)
    if position is None:
        return redirect(TO_INDEX, "no such position")
    if not may(who, Position, "change") or not staffing.administers(who.user, position.office_id):
        return forbidden("may not change the positions of that office")
    if method == "GET":
        return page("the holders and the office's people")
    return redirect(cell.path, "nobody ticked: a message, nothing written")


ADMIN_RULES: dict[str, Rule] = {
    "admin:index": Rule(("-",), fixed("/admin/"), admin_view(any_page)),
    "admin:login": Rule(("-",), fixed("/admin/login/"), admin_login_expect),
    "admin:logout": Rule(("-",), fixed("/admin/logout/"), admin_logout_expect),
    "admin:password_change": Rule(("-",), fixed("/admin/password_change/"), admin_view(any_page)),
    "admin:password_change_done": Rule(("-",), fixed("/admin/password_change/done/"),
                                       admin_view(template_page_get_only)),
    "admin:autocomplete": Rule(tuple(AUTOCOMPLETE), autocomplete_cell, admin_view(autocomplete_expect)),
    "admin:jsi18n": Rule(("-",), fixed("/admin/jsi18n/"), admin_view(template_page_get_only)),
    "admin:view_on_site": Rule(("run", "missing"), view_on_site_cell, admin_view(view_on_site_expect)),
    "admin:app_list": Rule(("auth", "axes", "procedures"), lambda world, label: Cell(f"/admin/{label}/", {}),
                           admin_view(app_list_expect)),
    "admin/(?P<url>.*)$": Rule(("no-such-page", "no-slash"), catch_all_cell, admin_view(catch_all_expect)),
    "admin:procedures_sop_import": Rule(("-",), import_cell, admin_view(import_expect)),
    "admin:procedures_sop_readiness": Rule(("-",), fixed("/admin/procedures/sop/readiness/"),
                                           admin_view(readiness_expect)),
    "admin:procedures_scoped_autocomplete": Rule(tuple(AUTOCOMPLETE), scoped_autocomplete_cell,
                                                 admin_view(autocomplete_expect)),
    "admin:procedures_position_holders": Rule(
        ADMIN_OBJECTS, lambda world, label: Cell(f"/admin/procedures/position/{admin_pk(world, Position, label)}"
                                                 "/holders/", {}), admin_view(holders_expect)),
    "admin:auth_user_import": Rule(("-",), fixed("/admin/auth/user/import/"), admin_view(user_import_expect)),
    "admin:auth_user_import_template": Rule(
        ("csv", "xlsx", "pdf"), lambda world, label: Cell(f"/admin/auth/user/import/template.{label}", {}),
        admin_view(user_import_template_expect)),
    "admin:procedures_run_cancel": Rule(("A-running", "A-finished", "B-running", "missing"), run_cancel_cell,
                                        admin_view(run_cancel_expect)),
    "admin:procedures_soprevision_export": Rule(("A-prodeskel", "B-bina-potensi", "missing"), export_cell,
                                                admin_view(export_expect)),
    "admin:auth_user_password_change": Rule(
        ADMIN_OBJECTS, lambda world, label: Cell(f"/admin/auth/user/{admin_pk(world, User, label)}/password/", {}),
        admin_view(user_password_expect)),
}


def all_rules() -> dict[str, Rule]:
    rules = {**SITE_RULES, **ADMIN_RULES}
    for model in admin.site._registry:
        if model in ADMIN_POLICY:
            rules.update(model_rules(model))
    return rules


# ---------------------------------------------------------------------------------------------
# The URL patterns Django knows
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    key: str  # "namespace:name", or the route for a pattern without a name
    route: str
    callback: Callable


def url_patterns(patterns=None, prefix: str = "", namespace: str = "") -> list[Pattern]:
    found = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(part for part in (namespace, entry.namespace or "") if part)
            found += url_patterns(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            key = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name or route
            found.append(Pattern(key, route, entry.callback))
    return found


RULES = all_rules()
CASES = [(pattern.key, label) for pattern in url_patterns() if pattern.key in RULES
         for label in RULES[pattern.key].objects]
