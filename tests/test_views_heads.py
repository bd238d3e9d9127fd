"""The heads' pages (procedures.views.heads): approvals in place and in bulk, upcoming work, overdue."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from procedures import engine, permissions
from procedures.models import Run, Task
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

KASAT = "Kasat Pol PP"
KABID = "Kabid Ketertiban dan Ketentraman Masyarakat"
KASIE = "Kasie Operasional dan Pengendalian"
PETUGAS = "Petugas Operasional"

APPROVALS, BULK, UPCOMING, OVERDUE = (reverse(name) for name in ("approvals", "approvals-bulk", "upcoming", "overdue"))


def patrol_at(cast, step: int, perihal: str = "Patroli Pasar Anyar") -> tuple[Run, Task]:
    """A run of SOP 004 driven until step ``step`` is open, and that task."""
    run = cast.start("004", perihal=perihal)
    drive(run, cast, stop_at=step)
    return run, open_task(run)


def ticks(task: Task) -> dict[str, list[str]]:
    return {f"t{task.pk}-ticked": [str(pk) for pk in all_items(task)]}


def signed_in(client, user):
    client.force_login(user)
    return client


# ---------------------------------------------------------------------------------------------
# Who may open what
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url, method", [(APPROVALS, "get"), (APPROVALS, "post"), (BULK, "post"),
                                         (UPCOMING, "get"), (OVERDUE, "get")])
def test_it_sends_the_anonymous_to_sign_in(client, cast, url, method):
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("url, method", [(APPROVALS, "get"), (APPROVALS, "post"), (BULK, "post"), (OVERDUE, "get")])
def test_it_refuses_staff_the_heads_pages(client, cast, url, method):
    signed_in(client, cast.user(PETUGAS))
    assert getattr(client, method)(url).status_code == 403


def test_bulk_approve_takes_no_get(client, cast):
    signed_in(client, cast.user(KASAT))
    assert client.get(BULK).status_code == 405


@pytest.mark.parametrize("url", [APPROVALS, UPCOMING, OVERDUE])
def test_a_head_opens_each_page(client, cast, url):
    signed_in(client, cast.user(KASAT))
    assert client.get(url).status_code == 200


def test_staff_open_upcoming(client, cast):
    signed_in(client, cast.user(PETUGAS))
    assert client.get(UPCOMING).status_code == 200


# ---------------------------------------------------------------------------------------------
# Approvals: the list
# ---------------------------------------------------------------------------------------------


def test_the_kasat_sees_the_decision_with_the_judged_report(client, cast):
    run, task = patrol_at(cast, 7)
    signed_in(client, cast.user(KASAT))
    response = client.get(APPROVALS)
    assert [t.pk for t, _form in response.context["items"]] == [task.pk]
    html = response.content.decode()
    assert "Bila ada temuan pelanggaran Perda" in html
    assert "Patroli Pasar Anyar" in html
    # The judged step 6 (the Kabid's evaluation) with its output, and the task page.
    assert "Evaluasi laporan hasil pelaksanaan tugas patroli bulanan (langkah 6)" in html
    assert reverse("task-detail", args=[task.pk]) in html
    assert 'name="act" value="%s:ya"' % task.pk in html
    assert 'name="act" value="%s:tidak"' % task.pk in html
    assert f'name="t{task.pk}-ticked"' in html
    assert f'name="t{task.pk}-reason"' in html


def test_a_head_of_another_position_does_not_see_it(client, cast):
    patrol_at(cast, 7)
    signed_in(client, cast.user(KABID))
    assert list(client.get(APPROVALS).context["items"]) == []


def test_a_telaahan_up_the_chain_shows_for_the_higher_position(client, cast):
    run, task = patrol_at(cast, 6)  # the Kasie's report reaches the Kabid
    signed_in(client, cast.user(KABID))
    response = client.get(APPROVALS)
    assert [t.pk for t, _form in response.context["items"]] == [task.pk]
    html = response.content.decode()
    assert "Approve (Setuju)" in html
    assert f'value="{task.pk}:tidak"' not in html  # a process step has no way back


def test_nobody_is_offered_to_approve_their_own_report(client, cast):
    run, task = patrol_at(cast, 6)
    both = UserFactory(first_name="Dwi", last_name="Rangkap")
    task.position.holders.add(both)  # the Kabid who also holds the Kasat position
    cast.user(KASAT).positions.first().holders.add(both)
    work(task, both)
    signed_in(client, both)
    html = client.get(APPROVALS).content.decode()
    decision = open_task(run)
    assert "You did step 6 yourself; another holder of the position must approve it." in html
    assert f'value="{decision.pk}:ya"' not in html


def test_overdue_items_are_marked(client, cast):
    run, task = patrol_at(cast, 7)
    Task.objects.filter(pk=task.pk).update(due_at=timezone.now() - dt.timedelta(hours=2))
    signed_in(client, cast.user(KASAT))
    html = client.get(APPROVALS).content.decode()
    assert "border-danger" in html and ">Overdue<" in html


# ---------------------------------------------------------------------------------------------
# Approvals: Setuju and Tolak in place
# ---------------------------------------------------------------------------------------------


def test_setuju_answers_ya_and_the_run_moves_on(client, cast):
    run, task = patrol_at(cast, 7)
    kasat = cast.user(KASAT)
    signed_in(client, kasat)
    response = client.post(APPROVALS, {"act": f"{task.pk}:ya", **ticks(task)})
    assert response.status_code == 302 and response.url == APPROVALS
    task.refresh_from_db()
    assert (task.status, task.decision, task.completed_by) == (Task.Status.DONE, "ya", kasat)
    assert open_task(run).step.nomor == 8
    assert transitions(run)["decide_ya"] == 1
    assert "Answered “Ada temuan pelanggaran Perda”; next: step 8, Kasat Pol PP." in client.get(APPROVALS).content.decode()


def test_setuju_with_htmx_updates_the_item_in_place(client, cast):
    run, task = patrol_at(cast, 7)
    signed_in(client, cast.user(KASAT))
    response = client.post(APPROVALS, {"act": f"{task.pk}:ya", **ticks(task)}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<li id="approval-{task.pk}"')
    assert "Answered “Ada temuan pelanggaran Perda”; next: step 8, Kasat Pol PP." in html and "<html" not in html
    assert "hx-swap-oob" in html  # the navigation's counts follow
    assert open_task(run).step.nomor == 8


def test_setuju_on_a_telaahan_completes_it_as_approved(client, cast):
    run, task = patrol_at(cast, 6)
    kabid = cast.user(KABID)
    signed_in(client, kabid)
    response = client.post(APPROVALS, {"act": f"{task.pk}:ya", **ticks(task)})
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.output_text, task.completed_by) == (Task.Status.DONE, "Approved", kabid)
    assert set(task.checks.values_list("item_id", flat=True)) == set(all_items(task))
    assert open_task(run).step.nomor == 7


def test_setuju_without_the_kelengkapan_ticked_says_so_at_the_field(client, cast):
    run, task = patrol_at(cast, 7)
    signed_in(client, cast.user(KASAT))
    before = snapshot()
    response = client.post(APPROVALS, {"act": f"{task.pk}:ya"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    html = response.content.decode()
    assert "tick every required item (kelengkapan) before answering Ya" in html
    assert f'id="div_id_t{task.pk}-ticked"' in html and "is-invalid" in html
    assert snapshot() == before


def test_tolak_without_a_reason_shows_the_error_next_to_the_field(client, cast):
    run, task = patrol_at(cast, 7)
    signed_in(client, cast.user(KASAT))
    before = snapshot()
    response = client.post(APPROVALS, {"act": f"{task.pk}:tidak"})
    assert response.status_code == 400
    form = next(form for item, form in response.context["items"] if item.pk == task.pk)
    assert form.errors["reason"] == ["say why (a reason is required for Tidak)"]
    html = response.content.decode()
    reason_at = html.index(f'name="t{task.pk}-reason"')
    assert "say why (a reason is required for Tidak)" in html[reason_at:reason_at + 800]
    assert snapshot() == before


def test_tolak_without_a_reason_with_htmx_returns_the_item_with_the_error(client, cast):
    run, task = patrol_at(cast, 7)
    signed_in(client, cast.user(KASAT))
    before = snapshot()
    response = client.post(APPROVALS, {"act": f"{task.pk}:tidak"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    html = response.content.decode()
    assert html.lstrip().startswith(f'<li id="approval-{task.pk}"')
    assert "say why (a reason is required for Tidak)" in html
    assert snapshot() == before


def test_tolak_with_a_reason_follows_the_no_path(client, cast):
    run, task = patrol_at(cast, 7)
    signed_in(client, cast.user(KASAT))
    before = snapshot()
    # Tidak ends the patrol: the item asks first, and nothing happens yet.
    response = client.post(APPROVALS, {"act": f"{task.pk}:tidak", f"t{task.pk}-reason": "Tidak ada temuan"})
    assert response.status_code == 200 and snapshot() == before
    html = response.content.decode()
    step = html.index(f'id="confirm-{task.pk}-tidak"')
    assert "hidden" not in html[step:html.index(">", step)] and "Yes, end the run" in html[step:]
    response = client.post(APPROVALS + "?confirmed=1", {"act": f"{task.pk}:tidak", f"t{task.pk}-reason": "Tidak ada temuan"})
    assert response.status_code == 302
    task.refresh_from_db()
    run.refresh_from_db()
    assert (task.decision, task.reason, run.status) == ("tidak", "Tidak ada temuan", Run.Status.FINISHED)


def test_a_stale_setuju_says_who_was_faster_and_changes_nothing(client, cast):
    run, task = patrol_at(cast, 7)
    other = UserFactory(first_name="Rina", last_name="Kedua")
    task.position.holders.add(other)
    work(open_task(run), other)  # the other Kasat answers first
    signed_in(client, cast.user(KASAT))
    before = snapshot()
    response = client.post(APPROVALS, {"act": f"{task.pk}:ya", **ticks(task)})
    assert response.status_code == 409
    assert "this task was already completed by Rina Kedua" in response.content.decode()
    response = client.post(APPROVALS, {"act": f"{task.pk}:ya", **ticks(task)}, HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    html = response.content.decode()
    assert "this task was already completed by Rina Kedua" in html and "Completed by Rina Kedua" in html
    assert snapshot() == before


def test_a_head_cannot_act_on_a_task_of_another_position(client, cast):
    run, task = patrol_at(cast, 7)
    signed_in(client, cast.user(KABID))
    before = snapshot()
    assert client.post(APPROVALS, {"act": f"{task.pk}:ya", **ticks(task)}).status_code == 403
    assert snapshot() == before


def test_a_task_that_is_no_approval_is_not_found(client, cast):
    run, task = patrol_at(cast, 2)  # the Kabid plans: below the Kasat, so nothing to approve
    signed_in(client, cast.user(KABID))
    assert client.post(APPROVALS, {"act": f"{task.pk}:ya", **ticks(task)}).status_code == 404


def test_a_malformed_action_is_a_bad_request(client, cast):
    signed_in(client, cast.user(KASAT))
    assert client.post(APPROVALS, {"act": "x:ya"}).status_code == 400
    assert client.post(APPROVALS, {"act": "1:mungkin"}).status_code == 400


def test_forms_submit_once(client, cast):
    patrol_at(cast, 7)
    signed_in(client, cast.user(KASAT))
    html = client.get(APPROVALS).content.decode()
    assert 'id="approvals-form"' in html and "data-once" in html and 'hx-sync="#approval-' in html


# ---------------------------------------------------------------------------------------------
# Approvals: several at once
# ---------------------------------------------------------------------------------------------


def test_bulk_approves_each_selected_item(client, cast):
    run_a, task_a = patrol_at(cast, 7, "Patroli A")
    run_b, task_b = patrol_at(cast, 7, "Patroli B")
    run_c, task_c = patrol_at(cast, 7, "Patroli C")
    signed_in(client, cast.user(KASAT))
    response = client.post(BULK, {"selected": [task_a.pk, task_b.pk], **ticks(task_a), **ticks(task_b),
                                  **ticks(task_c)}, follow=True)
    assert response.redirect_chain == [(APPROVALS, 302)]
    assert open_task(run_a).step.nomor == open_task(run_b).step.nomor == 8
    assert open_task(run_c).step.nomor == 7  # not selected
    shown = [str(m) for m in response.context["messages"]]
    assert "Step 7 of “Patroli A”: Answered “Ada temuan pelanggaran Perda”; next: step 8, Kasat Pol PP." in shown and "Step 7 of “Patroli B”: Answered “Ada temuan pelanggaran Perda”; next: step 8, Kasat Pol PP." in shown
    listed = {t.pk: t.step.nomor for t, _form in response.context["items"]}
    assert task_a.pk not in listed and task_b.pk not in listed and listed[task_c.pk] == 7  # step 8s follow


def test_bulk_reports_a_refusal_and_goes_on_with_the_others(client, cast):
    run_a, task_a = patrol_at(cast, 7, "Patroli A")
    run_b, task_b = patrol_at(cast, 7, "Patroli B")
    signed_in(client, cast.user(KASAT))
    response = client.post(BULK, {"selected": [task_a.pk, task_b.pk], **ticks(task_b)})
    assert response.status_code == 200  # the page again, the refused item still selected with its reason
    shown = [str(m) for m in response.context["messages"]]
    assert "Step 7 of “Patroli B”: Answered “Ada temuan pelanggaran Perda”; next: step 8, Kasat Pol PP." in shown and "1 item was not approved; see the item." in shown
    html = response.content.decode()
    item = html[html.index(f'id="approval-{task_a.pk}"'):]
    item = item[:item.find('id="approval-', 10)]
    assert "Not approved: tick every required item (kelengkapan) before answering Ya." in item
    assert f'value="{task_a.pk}" id="select-{task_a.pk}" checked' in item
    assert open_task(run_a).step.nomor == 7 and open_task(run_b).step.nomor == 8


def test_bulk_reports_a_stale_item(client, cast):
    run, task = patrol_at(cast, 7, "Patroli A")
    other = UserFactory(first_name="Rina", last_name="Kedua")
    task.position.holders.add(other)
    work(open_task(run), other)
    signed_in(client, cast.user(KASAT))
    response = client.post(BULK, {"selected": [task.pk], **ticks(task)})
    assert "Step 7 of “Patroli A”: this task was already completed by Rina Kedua" in response.content.decode()


def test_bulk_without_a_selection_asks_for_one(client, cast):
    signed_in(client, cast.user(KASAT))
    response = client.post(BULK, follow=True)
    assert "Select the items to approve first." in [str(m) for m in response.context["messages"]]


def test_bulk_skips_what_is_not_mine(client, cast):
    run, task = patrol_at(cast, 7)
    signed_in(client, cast.user(KABID))
    response = client.post(BULK, {"selected": [task.pk], **ticks(task)})
    assert f"Item {task.pk} is not among your approvals." in response.content.decode()
    assert open_task(run).step.nomor == 7


# ---------------------------------------------------------------------------------------------
# Upcoming
# ---------------------------------------------------------------------------------------------


def test_upcoming_shows_the_kabids_step_2_while_the_run_is_at_step_1(client, cast):
    run = cast.start("004", perihal="Patroli Malam")
    signed_in(client, cast.user(KABID))
    response = client.get(UPCOMING)
    [item] = response.context["items"]
    assert (item.run.pk, item.step.nomor, [t.step.nomor for t in item.current]) == (run.pk, 2, [1])
    html = response.content.decode()
    assert "Patroli Malam" in html and "Yours is the next step" in html and "10 menit" in html


def test_upcoming_counts_the_steps_before_mine(client, cast):
    cast.start("004")
    signed_in(client, cast.user(PETUGAS))
    [item] = client.get(UPCOMING).context["items"]
    assert (item.step.nomor, item.steps_between) == (4, 2)


def test_upcoming_leaves_out_runs_without_a_later_step_of_mine(client, cast):
    run, _task = patrol_at(cast, 11)  # only step 12 (Petugas) is left
    signed_in(client, cast.user(KABID))
    assert client.get(UPCOMING).context["items"] == []
    signed_in(client, cast.user(PETUGAS))
    assert [item.step.nomor for item in client.get(UPCOMING).context["items"]] == [12]


# ---------------------------------------------------------------------------------------------
# Overdue
# ---------------------------------------------------------------------------------------------


def test_overdue_groups_by_position_and_by_person(client, cast):
    past = timezone.now() - dt.timedelta(days=2)
    run_a, task_a = patrol_at(cast, 2, "Patroli A")  # Kabid, unclaimed
    run_b, task_b = patrol_at(cast, 3, "Patroli B")  # Kasie, claimed
    run_c, task_c = patrol_at(cast, 3, "Patroli C")  # Kasie, not yet due
    kasie = cast.user(KASIE)
    engine.task_claim(task=task_b, user=kasie)
    Task.objects.filter(pk__in=[task_a.pk, task_b.pk]).update(due_at=past)
    signed_in(client, cast.user(KASAT))
    response = client.get(OVERDUE)
    board = response.context["board"]
    assert board.total == 2
    assert {(r["position__name"], r["count"]) for r in board.by_position} == {(KABID, 1), (KASIE, 1)}
    assert [(r["assignee_id"], r["count"]) for r in board.by_person] == [(kasie.pk, 1)]
    assert [(r["position__name"], r["count"]) for r in board.unclaimed] == [(KABID, 1)]
    assert [t.pk for t in board.tasks] == sorted([task_a.pk, task_b.pk])
    html = response.content.decode()
    assert reverse("task-detail", args=[task_a.pk]) in html and "unclaimed" in html
    assert reverse("task-detail", args=[task_c.pk]) not in html


def test_overdue_is_per_office_and_an_admin_sees_all(client, cast):
    past = timezone.now() - dt.timedelta(days=1)
    run = cast.start("001")  # Kesbangpol
    Task.objects.filter(run=run).update(due_at=past)
    signed_in(client, cast.user(KASAT))
    response = client.get(OVERDUE)
    assert response.context["board"].total == 0
    # An empty board says so in words, not "0 open tasks …".
    html = response.content.decode()
    assert "No task is overdue in the offices where you are a head." in html and "0 open" not in html
    signed_in(client, cast.admin)
    assert client.get(OVERDUE).context["board"].total == 1


def test_overdue_leaves_out_cancelled_runs(client, cast):
    run, task = patrol_at(cast, 2)
    Task.objects.filter(pk=task.pk).update(due_at=timezone.now() - dt.timedelta(days=1))
    engine.run_cancel(run=run, user=cast.user(KASAT), reason="Uji")
    signed_in(client, cast.user(KASAT))
    assert client.get(OVERDUE).context["board"].total == 0


# ---------------------------------------------------------------------------------------------
# Constant queries
# ---------------------------------------------------------------------------------------------


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_approvals_cost_the_same_queries_for_3_or_15_runs(client, cast):
    for n in range(3):
        patrol_at(cast, 7, f"Patroli {n}")
    signed_in(client, cast.user(KASAT))
    client.get(APPROVALS)  # warm up the session
    few = queries(client, APPROVALS)
    assert few == 9  # 8 after the approvals' slim join (issue 16), and the SOPs awaiting approval (authoring)
    for n in range(3, 15):
        patrol_at(cast, 7, f"Patroli {n}")
    assert queries(client, APPROVALS) == few
    assert len(client.get(APPROVALS).context["items"]) == 15


def test_upcoming_costs_the_same_queries_for_3_or_15_runs(client, cast):
    for n in range(3):
        cast.start("004", perihal=f"Patroli {n}")
    signed_in(client, cast.user(PETUGAS))
    client.get(UPCOMING)
    few = queries(client, UPCOMING)
    assert few == 7
    for n in range(3, 15):
        patrol_at(cast, 2 + n % 2, f"Patroli {n}")
    assert queries(client, UPCOMING) == few
    assert len(client.get(UPCOMING).context["items"]) == 15


def test_overdue_costs_the_same_queries_for_3_or_15_runs(client, cast):
    for n in range(3):
        cast.start("004", perihal=f"Patroli {n}")
    Task.objects.update(due_at=timezone.now() - dt.timedelta(hours=1))
    signed_in(client, cast.user(KASAT))
    client.get(OVERDUE)
    few = queries(client, OVERDUE)
    # Session, user, standing, by position, unclaimed, by person, the list, navigation counts.
    assert few == 8
    for n in range(3, 15):
        run, task = patrol_at(cast, 2 + n % 2, f"Patroli {n}")
        if n % 3 == 0:
            engine.task_claim(task=task, user=cast.holder(task.position))
    Task.objects.update(due_at=timezone.now() - dt.timedelta(hours=1))
    assert queries(client, OVERDUE) == few
    assert client.get(OVERDUE).context["board"].total == 15


# ---------------------------------------------------------------------------------------------
# Issue 13: the sheet's question on Persetujuan, Kembalikan instead of approving, pilih semua
# ---------------------------------------------------------------------------------------------


def test_an_item_shows_the_sheets_question_and_where_each_answer_leads(client, cast):
    run, task = patrol_at(cast, 7)
    signed_in(client, cast.user(KASAT))
    html = client.get(APPROVALS).content.decode()
    assert "Ada temuan pelanggaran Perda?" in html
    assert "→ step 8, Kasat Pol PP" in html and "→ the run ends" in html
    assert f'value="{task.pk}:tidak"' in html and f'hx-post="{APPROVALS}?confirmed=1"' in html
    assert 'data-select-all' in html and "Select all" in html


def test_a_head_sends_a_report_back_instead_of_approving_it(client, cast):
    run, task = patrol_at(cast, 6)  # the Kabid's evaluation of the Kasie's report
    kabid = cast.user(KABID)
    signed_in(client, kabid)
    before = snapshot()
    response = client.post(APPROVALS, {"act": f"{task.pk}:kembali", f"return-{task.pk}": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and snapshot() == before
    assert "say why the work goes back (a reason is required)" in response.content.decode()
    response = client.post(APPROVALS, {"act": f"{task.pk}:kembali", f"return-{task.pk}": "Foto lokasi belum ada"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sent back to step 5 for correction." in html
    assert f"Sent back to the step before by {permissions.display_name(kabid)}" in html
    task.refresh_from_db()
    assert (task.status, task.reason, task.completed_by) == (Task.Status.SENT_BACK, "Foto lokasi belum ada", kabid)
    reopened = open_task(run)
    assert (reopened.step.nomor, reopened.return_reason) == (5, "Foto lokasi belum ada")
    assert run.events.filter(transition="return").count() == 1


def test_one_tick_confirms_every_item_of_the_kelengkapan(client, cast):
    run, task = patrol_at(cast, 7)
    signed_in(client, cast.user(KASAT))
    response = client.post(BULK, {"selected": [task.pk], "checked": [str(task.pk)]})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == Task.Status.DONE and task.checks.count() == len(all_items(task))


def test_an_item_whose_ya_ends_the_run_is_not_offered_for_bulk(client, cast):
    from procedures import step_graph
    from procedures.models import Step

    run, task = patrol_at(cast, 7)
    signed_in(client, cast.user(KASAT))
    html = client.get(APPROVALS).content.decode()
    assert f'id="select-{task.pk}"' in html  # Ya at 7 goes on to 8: offered
    # Now Ya would end the run (a revision is never changed: only this test's rolled-back rows, and
    # the step graphs kept in memory are forgotten before and after).
    Step.objects.filter(pk=task.step_id).update(ya_step=None)
    step_graph.clear()
    try:
        html = client.get(APPROVALS).content.decode()
        assert f'id="select-{task.pk}"' not in html and "data-no-bulk" in html
        response = client.post(BULK, {"selected": [task.pk], **ticks(task)})
        assert response.status_code == 200 and open_task(run).pk == task.pk
        assert "answer it on the item itself" in response.content.decode()
    finally:
        step_graph.clear()


def test_with_htmx_an_unconfirmed_ending_answer_returns_the_item_asking_first(client, cast):
    run, task = patrol_at(cast, 7)
    signed_in(client, cast.user(KASAT))
    before = snapshot()
    response = client.post(APPROVALS, {"act": f"{task.pk}:tidak", f"t{task.pk}-reason": "Nihil"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and snapshot() == before
    html = response.content.decode()
    assert html.lstrip().startswith(f'<li id="approval-{task.pk}"')
    step = html.index(f'id="confirm-{task.pk}-tidak"')
    assert "hidden" not in html[step:html.index(">", step)]
    assert "Nihil</textarea>" in html  # what was typed stays
