"""The whole path people take through a run, in Chromium: start, each step by its holder, Tolak."""

from __future__ import annotations

import re

from procedures.models import Event, Run, SopRevision, Task
from tests.engine_fixtures import KODE, open_task


def open_from_inbox(page, live_server, task: Task) -> None:
    """Go to the inbox and open the task from its row there, as a person would."""
    page.goto(live_server.url + "/")
    page.locator(f'a[href="/tugas/{task.pk}/"]').click()
    page.wait_for_url(f"{live_server.url}/tugas/{task.pk}/")


def fill_in_work(page, task: Task) -> None:
    """Tick every kelengkapan item (its label is the item's text) and write the output."""
    for text in task.step.kelengkapan.values_list("text", flat=True):
        page.get_by_label(text, exact=True).check()
    if task.step.output:
        page.get_by_label("Output", exact=True).fill(f"{task.step.output} (langkah {task.step.nomor})")


def complete(page, live_server, task: Task) -> None:
    """Complete the step; the page goes on to the next step if it is the user's, else to the inbox."""
    fill_in_work(page, task)
    page.get_by_role("button", name="Complete this step").click()
    page.get_by_text("Step completed; the run has moved on.").wait_for()


def start_run(page, live_server, number: str, perihal: str) -> Run:
    """Start a run of a seed SOP from /pelaksanaan/mulai/ and land on its step 1 (the starter's)."""
    page.goto(live_server.url + "/pelaksanaan/mulai/")
    page.get_by_label("SOP").select_option(label=_sop_label(number))
    page.get_by_label("Subject (perihal)").fill(perihal)
    page.get_by_role("button", name="Start").click()
    page.wait_for_url(re.compile(re.escape(live_server.url) + r"/tugas/\d+/$"))
    run = Run.objects.get(perihal=perihal)
    assert page.url == f"{live_server.url}/tugas/{open_task(run).pk}/"
    return run


def _sop_label(number: str) -> str:
    revision = SopRevision.objects.select_related("sop__office").filter(sop__kode=KODE[number]).latest("number")
    return f"{revision.nama} — {revision.sop.office.name}"


def work_until(run: Run, seeded, as_user, live_server, *, stop_at: int | None = None) -> list[tuple[int, str]]:
    """Each open task done by the demo holder of its position, in their own browser context."""
    trail = []
    for _guard in range(40):
        run.refresh_from_db()
        if run.status != Run.Status.RUNNING:
            return trail
        task = open_task(run)
        if task.step.nomor == stop_at:
            return trail
        username = seeded.holder(task.position).username
        page = as_user(username)
        open_from_inbox(page, live_server, task)
        complete(page, live_server, task)
        trail.append((task.step.nomor, username))
    raise AssertionError("the run did not end within 40 tasks")


def test_bina_potensi_masyarakat_runs_from_start_to_finish(seeded, as_user, live_server):
    kasi = as_user("kasi-bina-potensi-masyarakat")
    run = start_run(kasi, live_server, "000", "Pembinaan Linmas Kecamatan Ciledug")

    trail = work_until(run, seeded, as_user, live_server)

    assert [nomor for nomor, _user in trail] == list(range(1, 18))
    # The Kasat approves the telaahan (step 16) and chairs the meeting (steps 9, 10).
    assert {nomor for nomor, user in trail if user == "kasat-pol-pp"} == {9, 10, 16}
    assert {user for _nomor, user in trail} == {
        "kasi-bina-potensi-masyarakat", "kabid-linmas", "sekretaris", "kasat-pol-pp"}
    kasi.goto(f"{live_server.url}/pelaksanaan/{run.pk}/")
    kasi.locator('[data-run-status="selesai"]').wait_for()
    run.refresh_from_db()
    assert run.status == Run.Status.FINISHED
    assert run.events.filter(transition="complete").count() == 17
    assert run.events.filter(transition="finish").count() == 1


def test_prodeskel_tolak_sends_the_draft_back_to_the_kasi(seeded, as_user, live_server):
    kadis = as_user("kadis")
    run = start_run(kadis, live_server, "003", "SK Tim Prodeskel 2025")
    work_until(run, seeded, as_user, live_server, stop_at=4)

    decision = open_task(run)
    assert (decision.step.nomor, decision.visit) == (4, 1)
    kabid = as_user("kabid")
    open_from_inbox(kabid, live_server, decision)
    # The sheet's question, its answers' words and where each leads.
    kabid.get_by_text("Setuju dengan konsep SK Tim Kegiatan?").wait_for()
    assert kabid.locator("[data-answer=ya] [data-leads-to]").inner_text() == "→ step 5, Kadis"
    assert kabid.locator("[data-answer=tidak] [data-leads-to]").inner_text() == "→ step 3, Kasi"
    kabid.get_by_label("Reason (required for Tidak)").fill("Dasar hukum SK belum mencantumkan Perbup 2024")
    kabid.get_by_role("button", name="Tidak setuju, menyerahkan kepada Kasubbid untuk diperbaiki "
                                     "(sends the work back to step 3)").click()
    # Asked in the page first: nothing was posted yet.
    assert open_task(run).pk == decision.pk
    kabid.get_by_role("button", name="Yes, send it back to step 3").click()
    kabid.get_by_text("Decision recorded.").wait_for()

    redo = open_task(run)
    assert (redo.step.nomor, redo.visit) == (3, 2)
    kasi = as_user("kasi-dkdi")
    kasi.goto(live_server.url + "/")
    kasi.get_by_text("visit 2").wait_for()
    open_from_inbox(kasi, live_server, redo)
    sent_back = kasi.get_by_role("alert").filter(has_text="Sent back")
    assert "Dasar hukum SK belum mencantumkan Perbup 2024" in sent_back.inner_text()
    complete(kasi, live_server, redo)

    again = open_task(run)
    assert (again.step.nomor, again.visit) == (4, 2)
    kabid.goto(live_server.url + "/")
    kabid.locator(f'a[href="/tugas/{again.pk}/"]').wait_for()
    assert run.events.filter(transition="decide_tidak", reason__contains="Perbup 2024").count() == 1


def test_a_double_clicked_complete_button_acts_once(seeded, as_user, live_server):
    run = seeded.start("000", perihal="Klik ganda")
    task = open_task(run)
    page = as_user("kasi-bina-potensi-masyarakat")
    open_from_inbox(page, live_server, task)
    fill_in_work(page, task)
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)

    page.get_by_role("button", name="Complete this step").dblclick()
    page.get_by_text("Step completed; the run has moved on.").wait_for()

    assert posts == [f"{live_server.url}/tugas/{task.pk}/selesaikan/"]
    assert Event.objects.filter(task=task, transition="complete").count() == 1
    assert Task.objects.filter(run=run).count() == 2
