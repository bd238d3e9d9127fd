"""The work pages (procedures.views.work): inbox, task page and its actions, starting, seeing and
cancelling a run — who may open what, what each action changes, and what an error looks like."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from procedures import engine, permissions
from procedures.models import ActingAssignment, Event, Run, Task, TaskFile
from tests.engine_fixtures import (  # noqa: F401 (fixtures)
    _module_cast,
    all_items,
    cast,
    drive,
    english,
    open_task,
    snapshot,
    transitions,
    work,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

KASI = "Kasi Bina Potensi Masyarakat"  # does steps 1-4 of SOP 000 and starts it
KABID = "Kabid Linmas"  # a head of the Kasi in SOP 000: may look, not act
PETUGAS = "Petugas Operasional"  # same office, a position outside SOP 000
OUTSIDER = ("Kasi", "Dinas Komunikasi dan Informatika")  # another office

INBOX, RUN_START = reverse("inbox"), reverse("run-start")


def signed_in(client, user):
    client.force_login(user)
    return client


def started(cast, perihal: str = "Pembinaan Linmas Kecamatan Ciledug") -> tuple[Run, Task]:
    """A run of SOP 000 started by its Kasi, and its first (waiting) task."""
    run = cast.start("000", perihal=perihal)
    return run, open_task(run)


def done_work(task: Task, **extra) -> dict:
    """What the task form posts to complete a step: every item ticked, the output written."""
    return {"ticked": [str(pk) for pk in all_items(task)], "output_text": "Konsep jadwal terlampir", **extra}


def near(html: str, field: str, message: str, span: int = 1500) -> bool:
    """Whether ``message`` is shown inside the field's crispy wrapper (``div_id_<field>``)."""
    start = html.index(f'id="div_id_{field}"')
    end = html.find('id="div_id_', start + 1)
    return message in html[start:end if end != -1 else start + span]


def task_urls(task: Task) -> dict[str, str]:
    return {name: reverse(name, args=[task.pk]) for name in ("task-detail", "task-claim", "task-release", "task-complete")}


# ---------------------------------------------------------------------------------------------
# Who may open what
# ---------------------------------------------------------------------------------------------

PAGES = [
    ("get", "inbox", None), ("get", "task-detail", "task"), ("post", "task-claim", "task"),
    ("post", "task-release", "task"), ("post", "task-complete", "task"), ("get", "run-start", None),
    ("post", "run-start", None), ("get", "run-detail", "run"), ("post", "run-cancel", "run"),
]


@pytest.mark.parametrize("method, name, kind", PAGES)
def test_it_sends_the_anonymous_to_sign_in(client, cast, method, name, kind):
    run, task = started(cast)
    url = reverse(name, args=[{"task": task, "run": run}[kind].pk] if kind else [])
    before = snapshot()
    response = getattr(client, method)(url, {"reason": "x", "perihal": "x", "output_text": "x"} if method == "post" else {})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"
    assert snapshot() == before


@pytest.mark.parametrize("name, method", [("task-detail", "get"), ("task-claim", "post"), ("task-release", "post"),
                                          ("task-complete", "post")])
@pytest.mark.parametrize("who", ["other position", "other office"])
def test_it_refuses_a_task_of_another_position_or_office(client, cast, name, method, who):
    run, task = started(cast)
    engine.task_claim(task=task, user=cast.user(KASI))  # so that release has something to refuse
    signed_in(client, cast.user(PETUGAS) if who == "other position" else cast.user(*OUTSIDER))
    before = snapshot()
    response = getattr(client, method)(task_urls(task)[name], done_work(task) if method == "post" else {})
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("name, method", [("run-detail", "get"), ("run-cancel", "post")])
def test_it_refuses_a_run_of_another_office(client, cast, name, method):
    run, _task = started(cast)
    signed_in(client, cast.user(*OUTSIDER))
    before = snapshot()
    response = getattr(client, method)(reverse(name, args=[run.pk]), {"reason": "Salah kantor"} if method == "post" else {})
    assert response.status_code == 403
    assert snapshot() == before


def test_a_missing_task_or_run_is_not_found(client, cast):
    signed_in(client, cast.user(KASI))
    assert client.get(reverse("task-detail", args=[999999])).status_code == 404
    assert client.get(reverse("run-detail", args=[999999])).status_code == 404


def test_the_actions_take_no_get(client, cast):
    run, task = started(cast)
    signed_in(client, cast.user(KASI))
    for name in ("task-claim", "task-release", "task-complete"):
        assert client.get(task_urls(task)[name]).status_code == 405
    assert client.get(reverse("run-cancel", args=[run.pk])).status_code == 405


def test_a_head_sees_the_task_and_why_he_may_not_act_but_acting_is_refused(client, cast):
    run, task = started(cast)
    signed_in(client, cast.user(KABID))
    response = client.get(task_urls(task)["task-detail"])
    assert response.status_code == 200
    html = response.content.decode()
    assert "You do not hold the position Kasi Bina Potensi Masyarakat" in html
    assert task_urls(task)["task-complete"] not in html
    before = snapshot()
    response = client.post(task_urls(task)["task-complete"], done_work(task))
    assert response.status_code == 403
    assert "You do not hold the position Kasi Bina Potensi Masyarakat" in response.content.decode()
    assert snapshot() == before


# ---------------------------------------------------------------------------------------------
# The inbox and the task page
# ---------------------------------------------------------------------------------------------


def test_the_inbox_lists_claimed_and_waiting_tasks_of_my_positions(client, cast):
    _run, claimed = started(cast, "Dikerjakan")
    _run, waiting = started(cast, "Menunggu")
    engine.task_claim(task=claimed, user=cast.user(KASI))
    signed_in(client, cast.user(KASI))
    response = client.get(INBOX)
    assert response.status_code == 200
    assert [t.pk for t in response.context["mine"]] == [claimed.pk]
    assert [t.pk for t in response.context["claimable"]] == [waiting.pk]
    html = response.content.decode()
    assert task_urls(claimed)["task-detail"] in html and task_urls(waiting)["task-detail"] in html


def test_a_plh_of_today_sees_the_positions_tasks_and_counts_but_not_after_the_appointment(client, cast):
    _run, task = started(cast)
    plh = UserFactory()
    appointment = ActingAssignment.objects.create(
        position=task.position, user=plh, starts_on=timezone.localdate(), ends_on=timezone.localdate(),
        appointed_by=cast.admin,
    )
    signed_in(client, plh)
    response = client.get(INBOX)
    assert [t.pk for t in response.context["claimable"]] == [task.pk]
    assert response.context["nav_counts"]["tasks"] == 1
    assert response.context["is_head"]  # a Kasi ranks above staff
    assert client.get(task_urls(task)["task-detail"]).context["can_act"]
    ActingAssignment.objects.filter(pk=appointment.pk).update(
        starts_on=timezone.localdate() - dt.timedelta(days=3), ends_on=timezone.localdate() - dt.timedelta(days=1))
    response = client.get(INBOX)
    assert response.context["claimable"] == [] and response.context["nav_counts"]["tasks"] == 0
    assert not response.context["is_head"]
    assert client.get(task_urls(task)["task-detail"]).status_code == 403


def test_the_inbox_of_another_position_does_not_list_the_task(client, cast):
    _run, task = started(cast)
    signed_in(client, cast.user(PETUGAS))
    response = client.get(INBOX)
    assert response.status_code == 200
    assert task_urls(task)["task-detail"] not in response.content.decode()


def test_the_holder_opens_the_task_with_its_form(client, cast):
    run, task = started(cast)
    drive(run, cast, stop_at=3)
    task = open_task(run)
    signed_in(client, cast.user(KASI))
    response = client.get(task_urls(task)["task-detail"])
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html and 'id="task-panel"' in html
    assert f'action="{task_urls(task)["task-complete"]}"' in html
    assert "Rekap data" in html  # the kelengkapan item's label
    assert [done.step.nomor for done in response.context["earlier"]] == [1, 2]


def test_an_htmx_request_gets_the_panel_alone(client, cast):
    _run, task = started(cast)
    signed_in(client, cast.user(KASI))
    response = client.get(task_urls(task)["task-detail"], HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="task-panel"')


def test_claim_and_release(client, cast):
    _run, task = started(cast)
    kasi = cast.user(KASI)
    signed_in(client, kasi)
    response = client.post(task_urls(task)["task-claim"])
    assert response.status_code == 302 and response["Location"] == task_urls(task)["task-detail"]
    task.refresh_from_db()
    assert (task.status, task.assignee_id) == (Task.Status.IN_PROGRESS, kasi.pk)
    assert Event.objects.filter(task=task, transition="claim", actor=kasi).count() == 1

    response = client.post(task_urls(task)["task-release"])
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.assignee_id) == (Task.Status.WAITING, None)
    assert Event.objects.filter(task=task, transition="release", actor=kasi).count() == 1


def test_a_claim_someone_else_made_first_is_a_conflict(client, cast):
    _run, task = started(cast)
    other = UserFactory(first_name="Rina", last_name="Kedua")
    task.position.holders.add(other)
    engine.task_claim(task=task, user=other)
    signed_in(client, cast.user(KASI))
    before = snapshot()
    response = client.post(task_urls(task)["task-claim"])
    assert response.status_code == 409
    assert "This task was already claimed by Rina Kedua" in response.content.decode()
    assert snapshot() == before


def test_complete_moves_the_run_on(client, cast):
    run, task = started(cast)
    kasi = cast.user(KASI)
    signed_in(client, kasi)
    response = client.post(task_urls(task)["task-complete"], done_work(task, note="Sudah dibahas"))
    following = open_task(run)
    # Step 2 is the Kasi's too: the page goes on to it.
    assert response.status_code == 302 and response["Location"] == task_urls(following)["task-detail"]
    task.refresh_from_db()
    assert (task.status, task.completed_by_id, task.output_text) == (Task.Status.DONE, kasi.pk, "Konsep jadwal terlampir")
    assert set(task.checks.values_list("item_id", flat=True)) == set(all_items(task))
    assert transitions(run) == {"start": 1, "reach": 2, "claim": 1, "complete": 1}
    assert open_task(run).step.nomor == 2
    follow = client.get(response["Location"])
    assert "Step completed; the run has moved on." in follow.content.decode()


def test_complete_with_htmx_redirects_the_page(client, cast):
    _run, task = started(cast)
    signed_in(client, cast.user(KASI))
    response = client.post(task_urls(task)["task-complete"], done_work(task), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"] == task_urls(open_task(task.run))["task-detail"]
    task.refresh_from_db()
    assert task.status == Task.Status.DONE


def test_a_missing_output_shows_the_error_next_to_the_output(client, cast):
    _run, task = started(cast)
    signed_in(client, cast.user(KASI))
    before = snapshot()
    response = client.post(task_urls(task)["task-complete"], done_work(task, output_text="  "))
    assert response.status_code == 400
    message = "give the output of this step (Konsep Perencanaan Jadwal Pembinaan) as text or a file"
    assert response.context["form"].errors["output_text"] == [message]
    assert near(response.content.decode(), "output_text", message)
    assert snapshot() == before


def test_an_unticked_item_shows_the_error_next_to_the_items(client, cast):
    _run, task = started(cast)
    signed_in(client, cast.user(KASI))
    before = snapshot()
    response = client.post(task_urls(task)["task-complete"], done_work(task, ticked=[]))
    assert response.status_code == 400
    assert near(response.content.decode(), "ticked", "tick every required item (kelengkapan) before completing")
    assert snapshot() == before


def test_tidak_without_a_reason_shows_the_error_next_to_the_reason(client, cast):
    run = cast.start("003")
    drive(run, cast, stop_at=4)
    task = open_task(run)
    signed_in(client, cast.holder(task.position))
    before = snapshot()
    response = client.post(task_urls(task)["task-complete"], {"decision": "tidak", "reason": ""})
    assert response.status_code == 400
    assert near(response.content.decode(), "reason", "say why (a reason is required for Tidak)")
    assert snapshot() == before


def test_a_decision_is_answered_by_its_buttons_alone(client, cast):
    run = cast.start("003")
    drive(run, cast, stop_at=4)
    task = open_task(run)
    signed_in(client, cast.holder(task.position))
    html = client.get(task_urls(task)["task-detail"]).content.decode()
    assert 'type="radio"' not in html  # a radio beside the buttons could say the opposite
    assert 'name="decision" value="ya"' in html and 'name="decision" value="tidak"' in html


def test_a_decision_without_an_answer_is_a_bad_request(client, cast):
    run = cast.start("003")
    drive(run, cast, stop_at=4)
    task = open_task(run)
    signed_in(client, cast.holder(task.position))
    before = snapshot()
    response = client.post(task_urls(task)["task-complete"], {"reason": "?"})
    assert response.status_code == 400
    assert "decision" in response.context["form"].errors
    assert "This field is required." in response.content.decode()
    assert snapshot() == before


def test_tidak_with_a_reason_sends_the_work_back_with_the_reason(client, cast):
    run = cast.start("003")
    drive(run, cast, stop_at=4)
    task = open_task(run)
    signed_in(client, cast.holder(task.position))
    before = snapshot()
    # Tidak sends the work back to step 3: the page asks first and nothing happens yet.
    response = client.post(task_urls(task)["task-complete"], {"decision": "tidak", "reason": "Konsiderans kurang"})
    assert response.status_code == 200 and response.context["confirm"] == "tidak"
    html = response.content.decode()
    assert "Yes, send it back to step 3" in html and 'formaction="' + task_urls(task)["task-complete"] + '?confirmed=1"' in html
    assert snapshot() == before
    response = client.post(task_urls(task)["task-complete"] + "?confirmed=1",
                           {"decision": "tidak", "reason": "Konsiderans kurang"})
    assert response.status_code == 302 and response["Location"] == INBOX
    task.refresh_from_db()
    assert (task.status, task.decision) == (Task.Status.SENT_BACK, "tidak")
    redo = open_task(run)
    assert (redo.step.nomor, redo.visit, redo.return_reason) == (3, 2, "Konsiderans kurang")
    signed_in(client, cast.holder(redo.position))
    html = client.get(task_urls(redo)["task-detail"]).content.decode()
    assert "Sent back" in html and "Konsiderans kurang" in html


def test_ya_moves_the_run_on(client, cast):
    run = cast.start("003")
    drive(run, cast, stop_at=4)
    task = open_task(run)
    signed_in(client, cast.holder(task.position))
    response = client.post(task_urls(task)["task-complete"], {"decision": "ya", "ticked": [str(pk) for pk in all_items(task)]})
    assert response.status_code == 302
    assert Event.objects.filter(task=task, transition="decide_ya").count() == 1
    assert open_task(run).step.nomor == 5


def test_a_stale_complete_says_who_was_faster_and_changes_nothing(client, cast):
    _run, task = started(cast)
    work(task, cast.user(KASI))
    signed_in(client, cast.user(KASI))
    before = snapshot()
    response = client.post(task_urls(task)["task-complete"], done_work(task))
    assert response.status_code == 409
    html = response.content.decode()
    assert "This task was already completed by Kasi Bina Potensi Masyarakat (demo)" in html
    assert snapshot() == before


def test_an_uploaded_file_is_the_output(client, cast):
    run, task = started(cast)
    signed_in(client, cast.user(KASI))
    upload = SimpleUploadedFile("jadwal-pembinaan.pdf", b"%PDF-1.4\n% sopflow\n", content_type="application/pdf")
    response = client.post(task_urls(task)["task-complete"], done_work(task, output_text="", files=[upload]))
    assert response.status_code == 302
    stored = TaskFile.objects.get(task=task)
    assert stored.name == "jadwal-pembinaan.pdf"
    path = settings.MEDIA_ROOT / stored.file.name
    assert path.read_bytes() == b"%PDF-1.4\n% sopflow\n"
    assert Event.objects.get(task=task, transition="complete").files == ["jadwal-pembinaan.pdf"]
    # The next holder sees it among the earlier steps.
    html = client.get(task_urls(open_task(run))["task-detail"]).content.decode()
    download = reverse("task-file", args=[stored.pk])
    assert download in html and stored.file.url not in html  # served by the app, not a public folder
    # Anyone of the office downloads it; another office gets the 403 page, nobody signed in the login.
    signed_in(client, cast.user(PETUGAS))
    response = client.get(download)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4\n% sopflow\n"
    # A PDF opens in the browser, as a PDF whatever the upload claimed.
    assert 'inline; filename="jadwal-pembinaan.pdf"' == response["Content-Disposition"]
    assert response["Content-Type"] == "application/pdf"
    signed_in(client, cast.user(*OUTSIDER))
    assert client.get(download).status_code == 403
    client.logout()
    assert client.get(download).status_code == 302
    # A file gone from the storage is a 404 page, not a server error.
    signed_in(client, cast.user(KASI))
    path.unlink()
    response = client.get(download)
    assert response.status_code == 404
    assert "The file is no longer in the storage." in response.content.decode()


def test_a_file_of_a_refused_type_shows_the_error_next_to_the_files(client, cast):
    _run, task = started(cast)
    signed_in(client, cast.user(KASI))
    before = snapshot()
    upload = SimpleUploadedFile("virus.exe", b"MZ", content_type="application/octet-stream")
    response = client.post(task_urls(task)["task-complete"], done_work(task, files=[upload]))
    assert response.status_code == 400
    assert near(response.content.decode(), "files", "files of type .exe are not accepted")
    assert snapshot() == before


# ---------------------------------------------------------------------------------------------
# Starting, seeing and cancelling a run
# ---------------------------------------------------------------------------------------------


def test_the_start_page_offers_the_sops_whose_first_step_i_do(client, cast):
    signed_in(client, cast.user(KASI))
    response = client.get(RUN_START)
    assert response.status_code == 200
    assert [r.pk for r in response.context["revisions"]] == [cast.revision("000").pk]


def test_starting_a_run_opens_its_first_task(client, cast):
    kasi = cast.user(KASI)
    signed_in(client, kasi)
    response = client.post(RUN_START, {"revision": cast.revision("000").pk, "perihal": "Pembinaan RW 05"})
    run = Run.objects.get(perihal="Pembinaan RW 05")
    # Step 1 is the starter's: the page lands on it.
    assert response.status_code == 302 and response["Location"] == task_urls(open_task(run))["task-detail"]
    assert (run.started_by_id, run.status) == (kasi.pk, Run.Status.RUNNING)
    assert transitions(run) == {"start": 1, "reach": 1}
    assert open_task(run).step.nomor == 1


def test_starting_without_a_perihal_shows_the_error_next_to_it(client, cast):
    signed_in(client, cast.user(KASI))
    before = snapshot()
    response = client.post(RUN_START, {"revision": cast.revision("000").pk, "perihal": ""})
    assert response.status_code == 400
    assert "perihal" in response.context["form"].errors
    assert near(response.content.decode(), "perihal", "This field is required.")
    assert snapshot() == before


def test_an_sop_i_may_not_start_is_refused(client, cast):
    signed_in(client, cast.user(PETUGAS))
    before = snapshot()
    response = client.post(RUN_START, {"revision": cast.revision("000").pk, "perihal": "Bukan tugas saya"})
    assert response.status_code == 400
    assert "revision" in response.context["form"].errors
    assert snapshot() == before


def test_an_sop_of_independent_activities_starts_with_the_activity_chosen(client, cast):
    revision = cast.revision("002")  # activities A and C are the Kanit Binpolmas's, B the Kanit Binkamsa's
    signed_in(client, cast.user("Kanit Binpolmas"))
    page = client.get(RUN_START)
    offered = list(page.context["form"].fields["step"].queryset.values_list("nomor", flat=True))
    assert offered == [1, 3]
    html = page.content.decode()
    assert "Unit Binpolmas — A. A. Pembinaan" in html and "C. C. Analisa" in html

    before = snapshot()
    refused_page = client.post(RUN_START, {"revision": revision.pk, "perihal": "Tanpa kegiatan"})
    assert refused_page.status_code == 400 and "step" in refused_page.context["form"].errors
    assert snapshot() == before

    activity_c = revision.steps.get(nomor=3)
    response = client.post(RUN_START, {"revision": revision.pk, "step": activity_c.pk, "perihal": "Evaluasi Juni"})
    run = Run.objects.get(perihal="Evaluasi Juni")
    assert response.status_code == 302
    task = open_task(run)
    assert task.step == activity_c
    engine.task_complete(task=task, user=cast.user("Kanit Binpolmas"), ticked=[i.pk for i in activity_c.kelengkapan.all()],
                         output_text="Laporan")
    run.refresh_from_db()
    assert run.status == Run.Status.FINISHED  # the activity is the whole run


def test_an_activity_i_may_not_do_is_not_offered(client, cast):
    signed_in(client, cast.user("Kanit Binkamsa"))
    page = client.get(RUN_START)
    assert list(page.context["form"].fields["step"].queryset.values_list("nomor", flat=True)) == [2]
    # The SOP's page offers the start too, though activity A is not the Kanit Binkamsa's.
    sop_page = client.get(reverse("sop-detail", args=[cast.revision("002").sop.kode]))
    assert sop_page.context["can_start"]


def test_the_run_page_shows_the_flow_and_the_timeline(client, cast):
    run, _task = started(cast)
    drive(run, cast, stop_at=3)
    signed_in(client, cast.user(PETUGAS))  # anyone of the office may follow a run
    response = client.get(reverse("run-detail", args=[run.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-run-status="berjalan"' in html
    # The phone's vertical list: every step, done / current / not yet, who and when.
    assert html.count("data-step-state=") == 17
    assert html.count('data-step-state="done"') == 2 and html.count('data-step-state="current"') == 1
    assert 'aria-current="step"' in html
    assert html.count(" is-next") == 1  # the step after the current one
    assert html.count('class="symbol"') == 17  # the drawn sheet, marked the same way
    assert html.count('data-state="done"') == 2 and html.count('data-state="current"') == 1
    assert reverse("run-pdf", args=[run.pk]) in html and reverse("sop-pdf", args=[run.revision.sop.kode]) in html
    timeline = response.context["timeline"]
    assert sum((row.event is not None) + len(row.fine) for row in timeline) == run.events.count()
    assert [row.task.step.nomor for row in timeline if row.task] == [1, 2, 3]
    assert "tiba di langkah ini" not in html and "step reached" not in html
    assert not response.context["can_cancel"]


def test_the_starter_cancels_a_run_with_a_reason(client, cast):
    run, task = started(cast)
    kasi = cast.user(KASI)
    signed_in(client, kasi)
    assert client.get(reverse("run-detail", args=[run.pk])).context["can_cancel"]
    response = client.post(reverse("run-cancel", args=[run.pk]), {"reason": "Anggaran ditunda"})
    assert response.status_code == 302 and response["Location"] == reverse("run-detail", args=[run.pk])
    run.refresh_from_db()
    task.refresh_from_db()
    assert (run.status, run.cancel_reason, task.status) == (Run.Status.CANCELLED, "Anggaran ditunda", Task.Status.CANCELLED)
    assert Event.objects.filter(run=run, transition="cancel", actor=kasi).count() == 2  # the run and its open task


def test_cancelling_without_a_reason_shows_the_error_next_to_it(client, cast):
    run, _task = started(cast)
    signed_in(client, cast.user(KASI))
    before = snapshot()
    response = client.post(reverse("run-cancel", args=[run.pk]), {"reason": ""})
    assert response.status_code == 400
    html = response.content.decode()
    reason_at = html.index('name="reason"')
    assert "This field is required." in html[reason_at:reason_at + 400]
    assert snapshot() == before


@pytest.mark.parametrize("sop", ["000", "004"])
def test_the_cancel_form_shows_for_exactly_whom_the_permissions_allow(client, cast, sop):
    run = cast.start(sop, perihal="Siapa boleh membatalkan")
    office = run.office.name
    plh = UserFactory()  # a Plh of the run's highest position, for today
    top = min((column.position for column in run.revision.columns.all()), key=lambda position: position.level)
    ActingAssignment.objects.create(position=top, user=plh, starts_on=timezone.localdate(),
                                    ends_on=timezone.localdate(), appointed_by=cast.admin)
    people = [cast.admin, plh] + [cast.user(name, office_name) for office_name, name in cast.user_pks
                                  if office_name == office]
    url = reverse("run-detail", args=[run.pk])
    allowed = []
    for person in people:
        signed_in(client, person)
        can_cancel = client.get(url).context["can_cancel"]
        assert can_cancel == permissions.may_cancel_run(run, person), person.username
        allowed.append(can_cancel)
    assert True in allowed and False in allowed


def test_someone_of_the_office_who_may_not_cancel_is_refused(client, cast):
    run, _task = started(cast)
    signed_in(client, cast.user(PETUGAS))
    before = snapshot()
    response = client.post(reverse("run-cancel", args=[run.pk]), {"reason": "Bukan wewenang saya"})
    assert response.status_code == 403
    assert "Only whoever started this run, a head or an admin may cancel it" in response.content.decode()
    assert snapshot() == before


def test_cancelling_a_finished_run_is_a_conflict(client, cast):
    run, _task = started(cast)
    drive(run, cast)
    signed_in(client, cast.user(KASI))
    before = snapshot()
    response = client.post(reverse("run-cancel", args=[run.pk]), {"reason": "Terlambat"})
    assert response.status_code == 409
    assert snapshot() == before


# ---------------------------------------------------------------------------------------------
# Queries: a page costs the same however much there is on it
# ---------------------------------------------------------------------------------------------


def queries(client, url: str) -> int:
    client.get(url)  # warm caches (content types, the session) so that both counts start alike
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_inbox_costs_the_same_with_3_or_15_runs(client, cast):
    kasi = cast.user(KASI)
    signed_in(client, kasi)

    def add_runs(count: int) -> None:
        for number in range(count):
            run, task = started(cast, f"Pembinaan ke-{Run.objects.count()}")
            if number % 3 == 1:
                engine.task_claim(task=task, user=kasi)
            elif number % 3 == 2:
                drive(run, cast, stop_at=3)  # a task with earlier work, claimed on the way

    add_runs(3)
    few = queries(client, INBOX)
    # Session, user, standing, the tasks, the navigation counts.
    assert few == 5
    add_runs(12)
    response = client.get(INBOX)
    assert len(response.context["mine"]) + len(response.context["claimable"]) == 15
    assert queries(client, INBOX) == few


def test_the_run_page_costs_the_same_with_3_or_15_runs_and_steps_done(client, cast):
    run, _task = started(cast)
    drive(run, cast, stop_at=4)
    for number in range(2):
        started(cast, f"Lain {number}")
    url = reverse("run-detail", args=[run.pk])
    signed_in(client, cast.user(KASI))
    few = queries(client, url)
    # Session, user, standing, run, columns, steps, kelengkapan, tasks, timeline (with the office
    # calendar for each step's working time), navigation counts.
    assert few == 10
    drive(run, cast, stop_at=16)
    for number in range(12):
        drive(started(cast, f"Lain lagi {number}")[0], cast, stop_at=2)
    assert run.tasks.count() == 16 and Run.objects.count() == 15
    assert queries(client, url) == few


def test_the_task_page_costs_the_same_with_1_or_16_earlier_steps(client, cast):
    run, _task = started(cast)
    drive(run, cast, stop_at=2)
    second = open_task(run)
    signed_in(client, cast.user(KASI))
    few = queries(client, reverse("task-detail", args=[second.pk]))
    # Session, user, standing, task (with who asked), kelengkapan, earlier work, files, whether the user
    # is a head of the task (the Kasi is, of the Petugas), the position's holders, navigation counts.
    assert few == 10
    drive(run, cast, stop_at=17)
    last = open_task(run)
    assert len(client.get(reverse("task-detail", args=[last.pk])).context["earlier"]) == 16
    assert queries(client, reverse("task-detail", args=[last.pk])) == few


# ---------------------------------------------------------------------------------------------
# Every state of a task renders, on its page and on its run's page
# ---------------------------------------------------------------------------------------------


def tasks_in_every_state(cast) -> dict[str, Task]:
    """One task per state: waiting, in progress, done, sent back, cancelled (its run cancelled),
    and done in a finished run."""
    waiting_run = cast.start("003", perihal="Menunggu")
    waiting = open_task(waiting_run)
    claimed_run = cast.start("003", perihal="Dikerjakan")
    claimed = engine.task_claim(task=open_task(claimed_run), user=cast.holder(open_task(claimed_run).position))
    returned_run = cast.start("003", perihal="Dikembalikan")
    drive(returned_run, cast, script={4: [("tidak", "Konsiderans kurang")]}, stop_at=5)
    sent_back = returned_run.tasks.get(status=Task.Status.SENT_BACK)
    done = returned_run.tasks.filter(status=Task.Status.DONE).first()
    cancelled_run = cast.start("003", perihal="Dibatalkan")
    cancelled = open_task(cancelled_run)
    engine.run_cancel(run=cancelled_run, user=cast.admin, reason="Anggaran dialihkan")
    finished_run = cast.start("003", perihal="Selesai")
    drive(finished_run, cast)
    finished_run.refresh_from_db()
    assert finished_run.status == Run.Status.FINISHED
    return {
        "waiting": waiting, "in progress": claimed, "done": done, "sent back": sent_back,
        "cancelled": Task.objects.get(pk=cancelled.pk), "done, run finished": finished_run.tasks.last(),
    }


def test_a_task_in_every_state_renders_on_its_page_and_its_runs_page(client, cast):
    tasks = tasks_in_every_state(cast)
    assert {name: task.status for name, task in tasks.items()} == {
        "waiting": Task.Status.WAITING, "in progress": Task.Status.IN_PROGRESS, "done": Task.Status.DONE,
        "sent back": Task.Status.SENT_BACK, "cancelled": Task.Status.CANCELLED,
        "done, run finished": Task.Status.DONE,
    }
    for name, task in tasks.items():
        for viewer in (cast.holder(task.position), cast.admin):
            signed_in(client, viewer)
            page = client.get(reverse("task-detail", args=[task.pk]))
            assert page.status_code == 200, (name, viewer.username)
            assert f'data-status="{task.status}"' in page.content.decode(), name
            run_page = client.get(reverse("run-detail", args=[task.run_id]))
            assert run_page.status_code == 200, (name, viewer.username)
            partial = client.get(reverse("task-detail", args=[task.pk]), headers={"HX-Request": "true"})
            assert partial.status_code == 200, (name, viewer.username)


def test_a_cancelled_task_says_it_was_cancelled_with_the_run_and_why(client, cast):
    task = tasks_in_every_state(cast)["cancelled"]
    signed_in(client, cast.holder(task.position))
    html = client.get(reverse("task-detail", args=[task.pk])).content.decode()
    assert "Cancelled with the run: Anggaran dialihkan" in html
    assert "Completed by" not in html


def test_a_file_gone_from_the_storage_says_so_in_indonesian_on_the_404_page(client, cast, settings):
    run, task = started(cast)
    signed_in(client, cast.user(KASI))
    upload = SimpleUploadedFile("jadwal.pdf", b"%PDF-1.4\n", content_type="application/pdf")
    client.post(task_urls(task)["task-complete"], done_work(task, output_text="", files=[upload]))
    stored = TaskFile.objects.get(task=task)
    (settings.MEDIA_ROOT / stored.file.name).unlink()
    settings.LANGUAGE_CODE = "id"
    response = client.get(reverse("task-file", args=[stored.pk]))
    assert response.status_code == 404
    assert "Berkas ini tidak ada lagi di penyimpanan." in response.content.decode()


def test_other_404s_show_the_plain_page_without_djangos_messages(client, cast):
    signed_in(client, cast.user(KASI))
    response = client.get(reverse("task-detail", args=[999999]))
    assert response.status_code == 404
    html = response.content.decode()
    assert "There is no page at this address." in html and "matches the given query" not in html


@pytest.mark.parametrize(("name", "shown_as"), [
    ("foto-lokasi.JPG", "image/jpeg"), ("denah.png", "image/png"), ("surat.pdf", "application/pdf"),
    ("laporan.docx", None), ("catatan.txt", None), ("gambar.svg", None), ("halaman.html", None),
])
def test_images_and_pdfs_open_in_the_browser_and_everything_else_downloads(client, cast, settings, name, shown_as):
    settings.TASK_UPLOAD_EXTENSIONS = [*settings.TASK_UPLOAD_EXTENSIONS, "svg", "html"]
    run, task = started(cast)
    signed_in(client, cast.user(KASI))
    upload = SimpleUploadedFile(name, b"<svg onload=alert(1)><script>alert(1)</script>", content_type="text/html")
    assert client.post(task_urls(task)["task-complete"], done_work(task, output_text="", files=[upload])).status_code == 302
    response = client.get(reverse("task-file", args=[TaskFile.objects.get(task=task).pk]))
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    if shown_as:
        assert response["Content-Type"] == shown_as
        assert response["Content-Disposition"].startswith("inline;")
    else:  # never HTML or SVG on the site's origin: a download of bytes
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"].startswith("attachment;")


def test_the_file_field_states_the_limit_and_types_and_the_browser_checks_them(client, cast, settings):
    settings.TASK_UPLOAD_MAX_BYTES = 10 * 1024 * 1024
    settings.TASK_UPLOAD_EXTENSIONS = ["pdf", "jpg"]
    _run, task = started(cast)
    signed_in(client, cast.user(KASI))
    html = client.get(task_urls(task)["task-detail"]).content.decode()
    assert "At most 10.0 MB a file; types: jpg, pdf." in html
    assert 'data-max-bytes="10485760"' in html and 'accept=".jpg,.pdf"' in html
    signed_in(client, cast.user(KASI))
    client.cookies["django_language"] = "id"
    html = client.get(task_urls(task)["task-detail"]).content.decode()
    assert "10,0 MB" in html


def test_a_refused_form_keeps_what_was_typed(client, cast):
    _run, task = started(cast)
    signed_in(client, cast.user(KASI))
    upload = SimpleUploadedFile("rekaman.exe", b"MZ", content_type="application/octet-stream")
    response = client.post(task_urls(task)["task-complete"],
                           done_work(task, output_text="Jadwal pembinaan minggu depan", files=[upload]))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Jadwal pembinaan minggu depan" in html
    assert "data-files-again" in html


# ---------------------------------------------------------------------------------------------
# Uploads: long names, files and requests too large
# ---------------------------------------------------------------------------------------------


def test_a_long_non_ascii_file_name_is_stored_shortened_and_shown_whole(client, cast):
    run, task = started(cast)
    signed_in(client, cast.user(KASI))
    name = "Laporan pembinaan Linmas — " + "ä" * 200 + ".pdf"  # past the file system's 255 bytes
    upload = SimpleUploadedFile(name, b"%PDF-1.4\n", content_type="application/pdf")
    response = client.post(task_urls(task)["task-complete"], done_work(task, output_text="", files=[upload]))
    assert response.status_code == 302
    stored = TaskFile.objects.get(task=task)
    assert stored.name == name
    assert Event.objects.get(task=task, transition="complete").files == [name]
    on_disk = (settings.MEDIA_ROOT / stored.file.name)
    assert on_disk.read_bytes() == b"%PDF-1.4\n"
    assert len(on_disk.name.encode()) <= 128 and on_disk.name.endswith(".pdf")
    download = client.get(reverse("task-file", args=[stored.pk]))
    assert download.status_code == 200
    assert "filename*=utf-8''Laporan" in download["Content-Disposition"]
    html = client.get(task_urls(open_task(run))["task-detail"]).content.decode()
    assert name in html


class Unreadable:
    """A request body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


def test_a_request_past_the_body_limit_is_refused_unread_with_the_limits_stated(client, cast, settings):
    settings.REQUEST_BODY_MAX_BYTES = 30 * 1024 * 1024
    settings.TASK_UPLOAD_MAX_BYTES = 10 * 1024 * 1024
    _run, task = started(cast)
    signed_in(client, cast.user(KASI))
    before = snapshot()
    response = client.generic(
        "POST", task_urls(task)["task-complete"], b"", content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(45 * 1024 * 1024), HTTP_REFERER="http://testserver" + task_urls(task)["task-detail"],
        **{"wsgi.input": Unreadable()})
    assert response.status_code == 413
    html = response.content.decode()
    assert "What you sent is 45.0 MB; sopflow takes at most 30.0 MB at once, and a file of at most 10.0 MB." in html
    assert f'href="http://testserver{task_urls(task)["task-detail"]}"' in html  # back to the task
    assert "Content-Security-Policy" in response
    assert snapshot() == before


def test_a_file_past_every_limit_is_dropped_as_it_arrives_and_refused_by_its_size(client, cast, settings):
    settings.TASK_UPLOAD_MAX_BYTES = settings.SOP_FILE_MAX_BYTES = 1024 * 1024
    _run, task = started(cast)
    signed_in(client, cast.user(KASI))
    before = snapshot()
    upload = SimpleUploadedFile("rekaman-rapat.pdf", b"x" * (3 * 1024 * 1024 + 1), content_type="application/pdf")
    response = client.post(task_urls(task)["task-complete"], done_work(task, output_text="", files=[upload]))
    assert response.status_code == 400
    assert near(response.content.decode(), "files", "“rekaman-rapat.pdf” is 3.0 MB; a file may be at most 1.0 MB")
    assert snapshot() == before


def test_the_upload_handler_passes_a_file_on_until_the_limit_then_counts_and_drops_it(settings):
    from procedures.uploads import SizeLimitUploadHandler

    settings.TASK_UPLOAD_MAX_BYTES, settings.SOP_FILE_MAX_BYTES = 100, 50
    handler = SizeLimitUploadHandler()
    handler.new_file("files", "besar.pdf", "application/pdf", None)
    assert handler.receive_data_chunk(b"x" * 60, 0) == b"x" * 60
    assert handler.receive_data_chunk(b"x" * 60, 60) is None  # past 100: nothing more kept
    assert handler.receive_data_chunk(b"x" * 60, 120) is None
    stand_in = handler.file_complete(180)
    assert (stand_in.name, stand_in.size, stand_in.read()) == ("besar.pdf", 180, b"")
    small = SizeLimitUploadHandler()
    small.new_file("files", "kecil.pdf", "application/pdf", None)
    assert small.receive_data_chunk(b"x" * 100, 0) == b"x" * 100
    assert small.file_complete(100) is None  # Django's own handlers have it


# ---------------------------------------------------------------------------------------------
# Issue 13: decisions that ask the sheet's question, Kembalikan, reassigning, Plh shown, the inbox
# ---------------------------------------------------------------------------------------------


def patrol_at_7(cast) -> tuple[Run, Task]:
    run = cast.start("004", perihal="Patroli Pasar Anyar")
    drive(run, cast, stop_at=7)
    return run, open_task(run)


def test_a_decision_shows_the_sheets_question_and_where_each_answer_leads(client, cast):
    _run, task = patrol_at_7(cast)
    signed_in(client, cast.holder(task.position))
    html = client.get(task_urls(task)["task-detail"]).content.decode()
    assert "Ada temuan pelanggaran Perda?" in html
    assert "→ step 8, Kasat Pol PP" in html and "→ the run ends" in html
    assert "Tidak ada temuan, patroli selesai (ends the run)" in html
    # The confirmation is on the page, hidden until the answer's button reveals it.
    assert f'data-confirm="confirm-{task.pk}-tidak"' in html and f'id="confirm-{task.pk}-tidak"' in html
    assert "Yes (Setuju)" not in html and "No (Tolak)" not in html


def test_ending_the_run_by_an_answer_is_confirmed_first(client, cast):
    run, task = patrol_at_7(cast)
    signed_in(client, cast.holder(task.position))
    before = snapshot()
    answer = {"decision": "tidak", "reason": "Nihil"}
    response = client.post(task_urls(task)["task-complete"], answer)
    assert response.status_code == 200 and snapshot() == before
    html = response.content.decode()
    confirm_at = html.index(f'id="confirm-{task.pk}-tidak"')
    assert "hidden" not in html[confirm_at:html.index(">", confirm_at)]
    assert "Yes, end the run" in html
    response = client.post(task_urls(task)["task-complete"] + "?confirmed=1", answer, follow=True)
    assert response.redirect_chain == [(INBOX, 302)]
    assert "The run is finished: no step follows." in [str(m) for m in response.context["messages"]]
    run.refresh_from_db()
    assert run.status == Run.Status.FINISHED


def test_completing_when_the_next_step_is_someone_elses_lands_on_the_inbox_naming_them(client, cast):
    run, task = started(cast)
    drive(run, cast, stop_at=4)
    task = open_task(run)
    signed_in(client, cast.user(KASI))
    response = client.post(task_urls(task)["task-complete"], done_work(task), follow=True)
    assert response.redirect_chain == [(INBOX, 302)]
    shown = [str(m) for m in response.context["messages"]]
    kabid = permissions.display_name(cast.user(KABID))
    assert f"Step 5 is next, with {KABID}: {kabid}." in shown


def test_kembalikan_sends_the_work_back_and_the_timeline_marks_it(client, cast):
    run, task = started(cast)
    drive(run, cast, stop_at=5)
    task = open_task(run)
    kabid = cast.user(KABID)
    signed_in(client, kabid)
    html = client.get(task_urls(task)["task-detail"]).content.decode()
    assert f'action="{reverse("task-return", args=[task.pk])}"' in html and f"Send back to step 4 ({KASI})" in html
    before = snapshot()
    response = client.post(reverse("task-return", args=[task.pk]), {"reason": "  "})
    assert response.status_code == 400 and snapshot() == before
    assert "Say why the work goes back." in response.content.decode()
    response = client.post(reverse("task-return", args=[task.pk]), {"reason": "Lampiran belum ada"})
    assert response.status_code == 302 and response["Location"] == reverse("run-detail", args=[run.pk])
    task.refresh_from_db()
    assert task.status == Task.Status.SENT_BACK
    reopened = open_task(run)
    assert (reopened.step.nomor, reopened.assignee) == (4, cast.user(KASI))
    html = client.get(reverse("run-detail", args=[run.pk])).content.decode()
    assert "Sent back to step 4" in html and "outside the sheet's flow</span>" in html and "data-off-sheet" in html
    assert "Lampiran belum ada" in html


def test_the_first_step_offers_no_kembalikan(client, cast):
    _run, task = started(cast)
    signed_in(client, cast.user(KASI))
    response = client.get(task_urls(task)["task-detail"])
    assert not response.context["can_return"]
    assert reverse("task-return", args=[task.pk]) not in response.content.decode()


def test_claim_is_offered_only_where_the_position_has_several_holders(client, cast):
    _run, task = started(cast)
    signed_in(client, cast.user(KASI))
    assert not client.get(task_urls(task)["task-detail"]).context["can_claim"]
    task.position.holders.add(UserFactory(first_name="Rina"))
    response = client.get(task_urls(task)["task-detail"])
    assert response.context["can_claim"] and task_urls(task)["task-claim"] in response.content.decode()


def test_a_head_gives_an_open_task_to_a_named_holder(client, cast):
    _run, task = started(cast)
    rina = UserFactory(first_name="Rina", last_name="Kedua")
    task.position.holders.add(rina)
    engine.task_claim(task=task, user=cast.user(KASI))
    signed_in(client, cast.user(KABID))
    html = client.get(task_urls(task)["task-detail"]).content.decode()
    kasi_name = permissions.display_name(cast.user(KASI))
    assert f"Give to another holder (now: {kasi_name})" in html and "Rina Kedua" in html
    assert f"Release it from {kasi_name}" in html
    response = client.post(reverse("task-reassign", args=[task.pk]), {"to_user": str(rina.pk)})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.assignee == rina
    assert client.post(reverse("task-reassign", args=[task.pk]), {"to_user": "x"}).status_code == 400
    signed_in(client, cast.user(KASI))
    assert client.post(reverse("task-reassign", args=[task.pk]), {"to_user": str(rina.pk)}).status_code == 403


def test_a_plh_sees_the_banner_and_the_tasks_reaching_them_as_plh(client, cast):
    from django.utils import formats, translation

    _run, task = started(cast)
    plh = UserFactory(first_name="Dedi")
    ends_on = timezone.localdate() + dt.timedelta(days=2)
    ActingAssignment.objects.create(position=task.position, user=plh, kind="plh", starts_on=timezone.localdate(),
                                    ends_on=ends_on, appointed_by=cast.admin)
    signed_in(client, plh)
    html = client.get(INBOX).content.decode()
    until = formats.date_format(ends_on, "l, j M Y")
    assert f"You are acting as Plh {KASI} until {until}" in html
    assert f"as Plh {KASI}" in html and "data-acting-row" in html
    html = client.get(task_urls(task)["task-detail"]).content.decode()
    assert f"You act on this step as Plh {KASI}." in html
    with translation.override("id"):
        client.cookies["django_language"] = "id"
        html = client.get(INBOX, HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert f"Anda bertindak sebagai Plh {KASI} sampai" in html


def test_the_inbox_leads_each_row_with_the_runs_perihal(client, cast):
    started(cast, "Pembinaan RW 07 Ciledug")
    signed_in(client, cast.user(KASI))
    html = client.get(INBOX).content.decode()
    row = html[html.index("data-perihal"):]
    assert row.index("Pembinaan RW 07 Ciledug") < row.index("Step 1:")


def test_a_heads_approvals_are_counted_and_listed_once(client, cast):
    _run, task = patrol_at_7(cast)
    signed_in(client, cast.holder(task.position))
    response = client.get(INBOX)
    assert response.context["nav_counts"] == {"tasks": 0, "approvals": 1}
    assert response.context["mine"] == [] and response.context["claimable"] == []
    assert [t.pk for t in response.context["approvals"]] == [task.pk]
    assert "To approve (also on Persetujuan)" in response.content.decode()
