"""Phone width (390 × 844): the inbox and task pages fit, the action of every task page of the
five SOPs is on the first screen, and the run page lists its steps."""

from __future__ import annotations

from collections import Counter

from procedures import engine
from procedures.models import Run
from tests.browser.conftest import sign_in
from tests.browser.pages import PHONE, sideways_scroll
from tests.engine_fixtures import KODE, drive, open_task, work


def assert_no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px screen"


def test_inbox_and_task_page_fit_a_phone(seeded, new_context, live_server, artifacts):
    kasi = seeded.user("Kasi Bina Potensi Masyarakat")
    runs = [seeded.start("000", perihal=perihal) for perihal in (
        "Pembinaan Satlinmas Kelurahan Sudimara Barat", "Pemberdayaan potensi masyarakat RW 05",
        "Rapat koordinasi Satlinmas triwulan III")]
    drive(runs[0], seeded, stop_at=4)
    engine.task_claim(task=open_task(runs[1]), user=kasi)
    page = new_context(viewport=PHONE, device_scale_factor=1).new_page()
    sign_in(page, live_server, kasi.username)

    page.goto(live_server.url + "/")
    assert page.locator("#content a[href^='/tugas/']").count() == 3
    assert_no_sideways_scroll(page)
    page.screenshot(path=artifacts / "inbox-390.png", full_page=True)

    page.goto(f"{live_server.url}/tugas/{open_task(runs[0]).pk}/")
    page.get_by_role("button", name="Complete this step").wait_for()
    assert_no_sideways_scroll(page)
    page.screenshot(path=artifacts / "task-390.png", full_page=True)


def phone_pages(new_context, live_server):
    """``page_of(user)``: the user's signed-in page at 390 × 844, one browser context per user."""
    pages = {}

    def page_of(user):
        if user.username not in pages:
            page = new_context(viewport=PHONE, device_scale_factor=1).new_page()
            sign_in(page, live_server, user.username)
            pages[user.username] = page
        return pages[user.username]

    return page_of


def walk(seeded, number: str, answer: str, page_of, live_server, seen: dict, **start) -> None:
    """Work a run of SOP ``number`` to its end (decisions answered ``answer``, each step at most
    twice), measuring every task page on the holder's phone before doing the step."""
    run = seeded.start(number, perihal=f"Uji layar ponsel {number} ({answer})", **start)
    visits = Counter()
    while run.status == Run.Status.RUNNING:
        task = open_task(run)
        visits[task.step.nomor] += 1
        if visits[task.step.nomor] > 2:
            break
        user = seeded.holder(task.position)
        page = page_of(user)
        page.goto(f"{live_server.url}/tugas/{task.pk}/")
        button = page.locator(".task-actions button[type=submit]").first
        box = button.bounding_box()
        seen[(number, task.step.nomor)] = (round(box["y"] + box["height"]), sideways_scroll(page))
        decision = (answer, "Belum memenuhi syarat" if answer == "tidak" else "")
        work(task, user, decision)
        run.refresh_from_db()


def test_the_action_is_on_the_first_screen_of_every_task_page_of_the_five_sops(seeded, new_context, live_server, settings):
    settings.LANGUAGE_CODE = "id"
    page_of = phone_pages(new_context, live_server)
    seen: dict[tuple[str, int], tuple[int, int | None]] = {}
    for number in sorted(KODE):
        revision = seeded.revision(number)
        if revision.kegiatan_terpisah:  # independent activities: a run does the one chosen at its start
            for step in revision.steps.order_by("nomor"):
                walk(seeded, number, "ya", page_of, live_server, seen, step=step)
            continue
        walk(seeded, number, "ya", page_of, live_server, seen)
        if revision.steps.filter(simbol="keputusan").exists():
            walk(seeded, number, "tidak", page_of, live_server, seen)
    every_step = {(number, nomor) for number in KODE for nomor in seeded.revision(number).steps.values_list("nomor", flat=True)}
    assert set(seen) == every_step, f"task pages never reached: {sorted(every_step - set(seen))}"
    below = {key: bottom for key, (bottom, _wide) in seen.items() if bottom > PHONE["height"]}
    assert not below, f"the primary button ends below the first screen (844 px) on {below}"
    wide = {key: extra for key, (_bottom, extra) in seen.items() if extra}
    assert not wide, f"task pages wider than the phone: {wide}"


def test_the_run_page_on_a_phone_lists_the_steps_and_keeps_the_drawing_for_wide_screens_and_print(
        seeded, new_context, live_server):
    run = seeded.start("004", perihal="Patroli malam")
    drive(run, seeded, stop_at=3)
    kasat = seeded.user("Kasat Pol PP")
    page = new_context(viewport=PHONE, device_scale_factor=1).new_page()
    sign_in(page, live_server, kasat.username)
    page.goto(f"{live_server.url}/pelaksanaan/{run.pk}/")
    steps = page.locator(".run-steps > li")
    assert steps.count() == run.revision.steps.count() and steps.first.is_visible()
    assert [steps.nth(i).get_attribute("data-step-state") for i in range(4)] == ["done", "done", "current", "left"]
    assert "Kasat Pol PP" in steps.first.inner_text()  # who did it, and when (with the zone)
    assert "WIB" in steps.first.inner_text()
    assert "next" in steps.nth(3).locator(".step-state").inner_text()
    current = page.locator(".run-steps > li[aria-current=step]")
    assert current.get_attribute("data-step") == "3"
    assert not page.locator(".flow-drawing").is_visible()
    assert_no_sideways_scroll(page)
    page.emulate_media(media="print")
    assert page.locator(".flow-drawing").is_visible() and not steps.first.is_visible()
    wide = new_context(viewport={"width": 1366, "height": 900}).new_page()
    sign_in(wide, live_server, kasat.username)
    wide.goto(f"{live_server.url}/pelaksanaan/{run.pk}/")
    assert wide.locator(".flow-drawing svg").is_visible() and not wide.locator(".run-steps").is_visible()
