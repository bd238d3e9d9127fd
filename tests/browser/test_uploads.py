"""Uploads in Chromium: a request too large is answered with the page stating the limits."""

from __future__ import annotations

from procedures.models import Task
from tests.engine_fixtures import open_task


def test_a_too_large_upload_shows_the_page_with_the_limits(seeded, as_user, live_server, settings):
    settings.REQUEST_BODY_MAX_BYTES = 512 * 1024
    run = seeded.start("000", perihal="Unggahan besar")
    task = open_task(run)
    page = as_user(seeded.holder(task.position).username)
    page.goto(f"{live_server.url}/tugas/{task.pk}/")
    page.locator("input[type=file]").set_input_files(
        [{"name": "rekaman.pdf", "mimeType": "application/pdf", "buffer": b"x" * (3 * 1024 * 1024)}])
    page.get_by_role("button", name="Complete this step").click()
    page.get_by_text("Too large to send").wait_for()
    assert "sopflow takes at most 0.5 MB at once" in page.locator("[data-reason]").inner_text()
    page.get_by_role("link", name="Go back").click()
    page.wait_for_url(f"{live_server.url}/tugas/{task.pk}/")


def test_the_file_field_states_its_limits_and_the_browser_refuses_a_file_before_sending(
        seeded, as_user, live_server, settings):
    settings.TASK_UPLOAD_MAX_BYTES = 1024 * 1024
    run = seeded.start("000", perihal="Unggahan diperiksa peramban")
    task = open_task(run)
    page = as_user(seeded.holder(task.position).username)
    page.goto(f"{live_server.url}/tugas/{task.pk}/")
    assert "At most 1.0 MB a file; types: doc, docx, jpeg, jpg" in page.locator("#task-panel").inner_text()
    page.get_by_label("Output", exact=True).fill("Jadwal pembinaan")
    for box in page.locator("input[name=ticked]").all():
        box.check()
    files = page.locator("input[type=file]")
    files.set_input_files([{"name": "rekaman.mp4", "mimeType": "video/mp4", "buffer": b"x" * 10}])
    problem = page.locator("#id_files_browser_check")
    assert "“rekaman.mp4”: files of this type are not accepted" in problem.inner_text()
    files.set_input_files([{"name": "foto.jpg", "mimeType": "image/jpeg", "buffer": b"x" * (2 * 1024 * 1024)}])
    assert "“foto.jpg” is 2.0 MB; a file may be at most 1.0 MB." in problem.inner_text()
    # Sent anyway: the browser keeps the form, nothing reaches the server.
    requests = []
    page.on("request", lambda request: requests.append(request) if request.method == "POST" else None)
    page.get_by_role("button", name="Complete this step").click()
    page.wait_for_timeout(300)
    assert not requests and page.url.endswith(f"/tugas/{task.pk}/")
    assert page.get_by_label("Output", exact=True).input_value() == "Jadwal pembinaan"
    # A file that fits goes through; the server stored it and the next page opens it in place.
    files.set_input_files([{"name": "foto.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8\xff" + b"x" * 100}])
    assert problem.inner_text() == ""
    with page.expect_navigation():
        page.get_by_role("button", name="Complete this step").click()
    task.refresh_from_db()
    assert task.status == Task.Status.DONE and task.files.get().name == "foto.jpg"
