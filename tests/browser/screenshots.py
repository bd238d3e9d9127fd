"""Screenshots of the daily pages for docs/screenshots/: the inbox, a task, Persetujuan and a run, at
1366 × 900 and 390 × 844, in Indonesian, from the five shipped SOPs and their demo users.

Not collected by a normal test run (the file name does not start with ``test_``); make them with
``make screenshots`` (``pytest tests/browser/screenshots.py``), look at them, and commit them.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings as django_settings

from tests.browser.conftest import sign_in
from tests.browser.pages import DESK, PHONE
from tests.engine_fixtures import SATPOL, drive, open_task

OUT = Path(django_settings.BASE_DIR) / "docs" / "screenshots"

PATROLI = [
    "Patroli wilayah Kelurahan Sudimara Barat, Kecamatan Ciputat Timur",
    "Patroli malam pasar Ciputat menjelang Ramadan",
    "Pengawasan reklame liar Jalan Raya Serpong",
]
BINA = ["Pembinaan Satlinmas Kelurahan Sudimara Barat", "Rapat koordinasi Satlinmas triwulan IV"]


def test_screenshots_of_the_daily_pages(seeded, new_context, live_server, settings):
    settings.LANGUAGE_CODE = "id"
    OUT.mkdir(parents=True, exist_ok=True)
    patroli = [seeded.start("004", perihal=perihal) for perihal in PATROLI]
    for run in patroli:
        drive(run, seeded, stop_at=7)  # the Kasat's decision: on Persetujuan
    bina = [seeded.start("000", perihal=perihal) for perihal in BINA]
    drive(bina[0], seeded, stop_at=3)
    field = seeded.start("004", perihal="Patroli rutin Kecamatan Pamulang")
    drive(field, seeded, stop_at=4)  # the Petugas's patrol, on a phone

    kasat = seeded.user("Kasat Pol PP", SATPOL)
    petugas = seeded.holder(open_task(field).position)
    shots = [
        ("inbox", kasat, "/"),
        ("approvals", kasat, "/persetujuan/"),
        ("run", kasat, f"/pelaksanaan/{patroli[0].pk}/"),
        ("task", petugas, f"/tugas/{open_task(field).pk}/"),
    ]
    for viewport, suffix in ((DESK, "1366"), (PHONE, "390")):
        pages = {}
        for name, user, path in shots:
            if user.username not in pages:
                # bypass_csp: a whole-page picture sets the bars that stick to the screen's bottom in
                # their place (a <style> of the test's own, which the site's policy would refuse).
                pages[user.username] = new_context(viewport=viewport, device_scale_factor=1, bypass_csp=True).new_page()
                sign_in(pages[user.username], live_server, user.username)
            page = pages[user.username]
            page.goto(live_server.url + path)
            page.evaluate("document.fonts.ready")
            # A task on a phone as it first shows (the action bar stuck at the bottom); the rest whole.
            whole = not (name == "task" and viewport is PHONE)
            if whole:
                page.add_style_tag(content=".task-actions, .position-sticky { position: static !important; }")
            page.screenshot(path=OUT / f"{name}-{suffix}.png", full_page=whole)
