"""Every page a user, a head, a Kasubag and an admin reach, in Indonesian, at 390 × 844 and 1366 × 900:
nothing scrolls sideways on the phone, and axe-core finds no serious or critical violation at either
width. The navigation: one line at 1366 px, the current page marked, a menu button on the phone."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from procedures.models import Office, Position, Profile, Task
from tests.browser.conftest import PASSWORD, sign_in
from tests.browser.pages import DESK, PHONE, serious_violations, sideways_scroll
from tests.engine_fixtures import KODE, SATPOL, drive, open_task

KASUBAG_PERMISSIONS = [
    "view_sop", "change_sop", "view_soprevision", "view_position", "change_position", "view_office",
    "view_user", "add_user", "change_user", "view_actingassignment", "add_actingassignment",
]


@pytest.fixture
def world(seeded, settings):
    """Runs in every state a page shows, a late task, and a Kasubag of the Satpol PP office."""
    settings.LANGUAGE_CODE = "id"
    patroli = seeded.start("004", perihal="Patroli wilayah Kelurahan Sudimara Barat, Kecamatan Ciputat Timur")
    drive(patroli, seeded, stop_at=7)  # the Kasat's decision: on Persetujuan
    bina = seeded.start("000", perihal="Pembinaan Satlinmas Kelurahan Sudimara Barat")
    drive(bina, seeded, stop_at=4)
    late = open_task(bina)
    Task.objects.filter(pk=late.pk).update(due_at=timezone.now() - dt.timedelta(days=3))
    done = Task.objects.filter(run=bina, status=Task.Status.DONE).order_by("pk").first()
    User = get_user_model()
    kasubag = User.objects.create_user("kasubag", password=PASSWORD, first_name="Kasubag Organisasi", is_staff=True)
    kasubag.user_permissions.add(*Permission.objects.filter(codename__in=KASUBAG_PERMISSIONS))
    Profile.objects.create(user=kasubag, office=Office.objects.get(name=SATPOL), nip="197502152000031002")
    return SimpleNamespace(
        patroli=patroli, bina=bina, decision=open_task(patroli), late=late, done=done, kasubag=kasubag,
        kasat=seeded.user("Kasat Pol PP", SATPOL), late_holder=seeded.holder(late.position), admin=seeded.admin,
        position=Position.objects.filter(office__name=SATPOL).order_by("pk").first(),
    )


def pages_of(world) -> dict[str | None, list[str]]:
    """Who (a username, None for nobody signed in) visits which addresses."""
    return {
        None: ["/masuk/", "/akun/lupa-kata-sandi/", "/akun/lupa-kata-sandi/terkirim/",
               "/akun/atur-ulang/MQ/kadaluwarsa/", "/akun/atur-ulang/selesai/"],
        world.kasat.username: [
            "/", "/persetujuan/", "/akan-datang/", "/terlambat/", "/pelaksanaan/", "/pelaksanaan/mulai/",
            f"/pelaksanaan/{world.patroli.pk}/", f"/pelaksanaan/{world.bina.pk}/", f"/tugas/{world.decision.pk}/",
            f"/tugas/{world.done.pk}/", "/sop/", f"/sop/{KODE['004']}/", "/akun/kata-sandi/",
            "/akun/kata-sandi/selesai/", "/halaman-yang-tidak-ada/", "/pemantauan/"],
        # Another position's task: the 403 page.
        world.late_holder.username: ["/", f"/tugas/{world.late.pk}/", f"/tugas/{world.decision.pk}/"],
        world.kasubag.username: [
            "/admin/", "/admin/procedures/sop/import/", "/admin/procedures/sop/readiness/",
            f"/admin/procedures/position/{world.position.pk}/holders/", "/admin/procedures/position/",
            "/admin/auth/user/", "/admin/auth/user/import/", f"/admin/auth/user/{world.late_holder.pk}/change/",
            "/admin/procedures/actingassignment/add/"],
        world.admin.username: [f"/sop/{KODE['004']}/", "/pelaksanaan/mulai/", "/admin/procedures/run/",
                               f"/admin/procedures/run/{world.patroli.pk}/change/"],
    }


def browse(new_context, live_server, username: str | None, viewport: dict):
    page = new_context(viewport=viewport, device_scale_factor=1).new_page()
    page.set_default_timeout(10_000)
    if username:
        sign_in(page, live_server, username)
    return page


@pytest.mark.parametrize("viewport", [PHONE, DESK], ids=["390", "1366"])
def test_no_page_scrolls_sideways_on_a_phone_and_axe_finds_nothing_serious(world, new_context, live_server, viewport):
    problems = []
    for username, paths in pages_of(world).items():
        page = browse(new_context, live_server, username, viewport)
        for path in paths:
            response = page.goto(live_server.url + path)
            assert response.status < 500, f"{path}: {response.status}"
            if viewport is PHONE and (extra := sideways_scroll(page)):
                problems.append(f"{username or 'anonymous'} {path}: {extra}px wider than the phone")
            problems += [f"{username or 'anonymous'} {path}: {line}" for line in serious_violations(page)]
        page.context.close()
    assert not problems, "\n".join(problems)


def test_the_navigation_is_one_line_at_1366_marks_the_current_page_and_folds_on_a_phone(world, new_context, live_server):
    for user in (world.kasat, world.admin):  # the admin has every item, "Admin" too
        page = browse(new_context, live_server, user.username, DESK)
        for path in ("/", "/persetujuan/", "/pelaksanaan/", "/terlambat/"):
            page.goto(live_server.url + path)
            items = page.locator("#nav .nav-link, #nav [data-account-menu]")
            boxes = [items.nth(i).bounding_box() for i in range(items.count())]
            middles = [box["y"] + box["height"] / 2 for box in boxes]
            assert max(middles) - min(middles) < 4 and max(box["height"] for box in boxes) < 45, \
                f"{path}: the bar wraps at 1366 px ({boxes})"
            current = page.locator("#nav [aria-current=page]")
            assert current.count() == 1 and current.get_attribute("href") == path
            assert not any(label in page.locator("#nav").inner_text() for label in ("My tasks", "Approvals"))
        page.locator("[data-account-menu]").click()
        page.get_by_role("link", name="Kata sandi").click()
        page.wait_for_url(live_server.url + "/akun/kata-sandi/")

    phone = browse(new_context, live_server, world.kasat.username, PHONE)
    menu = phone.get_by_role("button", name="Menu")
    assert menu.is_visible() and not phone.get_by_role("link", name="Persetujuan").is_visible()
    menu.click()
    phone.get_by_role("link", name="Persetujuan").click()
    phone.wait_for_url(live_server.url + "/persetujuan/")
    assert phone.locator("#nav [aria-current=page]").get_attribute("href") == "/persetujuan/"
