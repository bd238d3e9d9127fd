"""The run list (Daftar pelaksanaan) and the SOP catalogue (Katalog SOP): who sees what, the
filters, pagination, the sheet of each seed SOP, and a constant number of queries per page."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import include, path, reverse
from django.utils import timezone
from django.utils.html import escape

from procedures import engine
from procedures.models import Position, Run, Sop, Task
from tests.engine_fixtures import (  # noqa: F401 (fixtures)
    KESBANGPOL,
    KODE,
    SATBINMAS,
    SATPOL,
    _module_cast,
    cast,
    drive,
    english,
    open_task,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

KASAT = "Kasat Pol PP"

# A URLconf with a "sop-pdf" route, as the PDF issue will add: the sheet links to it then.
urlpatterns = [
    path("sop/<slug:kode>/pdf", lambda request, kode: HttpResponse("pdf"), name="sop-pdf"),
    path("", include("sopflow.urls")),
]


def run_pks(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-run="(\d+)"', response.content.decode())]


def satpol(cast):
    return cast.user(KASAT, SATPOL)


def holder_of_first_step(cast, number: str):
    revision = cast.revision(number)
    return cast.holder(revision.steps.order_by("nomor").first().column.position)


def other_office_user(cast, office_name: str):
    """A demo user holding only positions outside ``office_name``."""
    position = Position.objects.filter(holders__isnull=False).exclude(office__name=office_name).select_related("office").first()
    return cast.holder(position)


# ---------------------------------------------------------------------------------------------
# Who may open what
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, args", [("run-list", []), ("sop-list", []), ("sop-detail", [KODE["000"]])])
def test_anonymous_goes_to_login(client, db, name, args):
    url = reverse(name, args=args)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_it_refuses_another_offices_sop(client, cast):
    client.force_login(other_office_user(cast, SATPOL))
    assert client.get(reverse("sop-detail", args=[KODE["000"]])).status_code == 403


def test_a_user_without_office_sees_no_runs_and_no_sops(client, cast):
    cast.start("000")
    client.force_login(UserFactory())
    response = client.get(reverse("run-list"))
    assert response.status_code == 200
    assert run_pks(response) == []
    response = client.get(reverse("sop-list"))
    assert response.status_code == 200
    assert "sop-detail" not in response.content.decode() and KODE["000"] not in response.content.decode()
    assert client.get(reverse("sop-detail", args=[KODE["000"]])).status_code == 403


def test_an_unknown_kode_is_404(client, cast):
    client.force_login(satpol(cast))
    assert client.get(reverse("sop-detail", args=["tidak-ada"])).status_code == 404


# ---------------------------------------------------------------------------------------------
# SOP catalogue
# ---------------------------------------------------------------------------------------------


def test_the_sop_list_shows_my_offices_sops(client, cast):
    client.force_login(satpol(cast))
    response = client.get(reverse("sop-list"))
    assert response.status_code == 200
    html = response.content.decode()
    for number in ("000", "004"):
        revision = cast.revision(number)
        assert escape(revision.nama) in html
        assert reverse("sop-detail", args=[KODE[number]]) in html
        assert f'<td class="text-end">{revision.steps.count()}</td>' in html
    for number in ("001", "002", "003"):
        assert reverse("sop-detail", args=[KODE[number]]) not in html


def test_an_admin_sees_every_sop(client, cast):
    client.force_login(cast.admin)
    html = client.get(reverse("sop-list")).content.decode()
    for kode in KODE.values():
        assert reverse("sop-detail", args=[kode]) in html


@pytest.mark.parametrize("number", sorted(KODE))
def test_the_sheet_shows_every_activity_and_role_column(client, cast, number):
    revision = cast.revision(number)
    client.force_login(holder_of_first_step(cast, number))
    response = client.get(reverse("sop-detail", args=[KODE[number]]))
    assert response.status_code == 200
    html = response.content.decode()
    assert escape(revision.nama) in html
    for kegiatan in revision.steps.values_list("kegiatan", flat=True):
        assert escape(kegiatan) in html
    labels = list(revision.columns.order_by("order").values_list("label", flat=True))
    assert re.findall(r'data-column="\d+">([^<]*)</th>', html) == [escape(label) for label in labels]
    # One symbol per step, in its actor's column.
    assert html.count('class="flow-symbol flow-') == revision.steps.count()
    # The holder of the first step may start a run from here.
    assert "data-start" in html


def test_the_sheet_shows_the_identity_block_and_lists(client, cast):
    client.force_login(holder_of_first_step(cast, "002"))
    html = client.get(reverse("sop-detail", args=[KODE["002"]])).content.decode()
    for text in ("SOP / 04 / IX / 2019", "3 September 2019", "1 Oktober 2019", "Kapolres Gorontalo Kota",
                 "Ajun Komisaris Besar Polisi", "76050993", "Perkap nomor 3 thn 2015 tentang pemolisian masyarakat",
                 "Surat perintah tugas", "Dilarang bersosialisasi tentang kampanye politik", "Buku catatan"):
        assert escape(text) in html, text
    assert html.count("<ol") >= 6


def test_the_sheet_shows_decisions_and_total_time(client, cast):
    client.force_login(holder_of_first_step(cast, "004"))
    html = client.get(reverse("sop-detail", args=[KODE["004"]])).content.decode()
    assert re.search(r"Yes → 8</span> / <span[^>]*>No → end", html)
    client.force_login(holder_of_first_step(cast, "001"))
    html = client.get(reverse("sop-detail", args=[KODE["001"]])).content.decode()
    revision = cast.revision("001")
    assert "5 hari 4 jam 45 menit" in html
    assert revision.total_waktu and escape(revision.total_waktu) in html


def test_transcription_notes_show_to_admins_on_the_sheet_and_never_on_a_task(client, cast):
    revision = cast.revision("004")
    noted = revision.steps.exclude(catatan_transkripsi="").order_by("nomor").first()
    assert revision.catatan_transkripsi and noted, "the shipped Patroli file carries transcription notes"
    client.force_login(cast.admin)
    html = client.get(reverse("sop-detail", args=[KODE["004"]])).content.decode()
    assert "data-transcription-notes" in html
    assert escape(revision.catatan_transkripsi[0]) in html and escape(noted.catatan_transkripsi) in html
    # Those who run the SOP read the sheet without them, and a task never shows them.
    client.force_login(holder_of_first_step(cast, "004"))
    html = client.get(reverse("sop-detail", args=[KODE["004"]])).content.decode()
    assert "data-transcription-notes" not in html and escape(noted.catatan_transkripsi) not in html
    run = cast.start("004", perihal="Patroli malam")
    drive(run, cast, stop_at=noted.nomor)
    task = open_task(run)
    assert task.step_id == noted.pk
    client.force_login(cast.holder(task.position))
    html = client.get(reverse("task-detail", args=[task.pk])).content.decode()
    assert escape(task.step.kegiatan) in html and escape(noted.catatan_transkripsi) not in html


def test_the_sheet_of_an_unknown_revision_is_404(client, cast):
    client.force_login(satpol(cast))
    url = reverse("sop-detail", args=[KODE["000"]])
    assert client.get(url, {"revisi": "1"}).status_code == 200
    assert client.get(url, {"revisi": "99"}).status_code == 404
    assert client.get(url, {"revisi": "satu"}).status_code == 404


def test_the_sheet_links_to_its_pdf_only_when_the_route_exists(client, cast, settings):
    client.force_login(satpol(cast))
    html = client.get(reverse("sop-detail", args=[KODE["000"]])).content.decode()
    try:
        reverse("sop-pdf", args=[KODE["000"]])
    except Exception:
        assert "data-pdf" not in html
    settings.ROOT_URLCONF = __name__
    html = client.get(reverse("sop-detail", args=[KODE["000"]])).content.decode()
    assert f'href="/sop/{KODE["000"]}/pdf" data-pdf' in html


def test_the_sheet_picks_my_office_when_offices_share_a_kode(client, cast):
    mine, theirs = cast.revision("000"), cast.revision("001")
    kesbangpol_user = holder_of_first_step(cast, "001")
    # Another office's SOP gets the same kode as one of mine.
    Sop.objects.filter(pk=theirs.sop_id).update(kode=mine.sop.kode)
    url = reverse("sop-detail", args=[mine.sop.kode])
    client.force_login(satpol(cast))
    html = client.get(url).content.decode()
    assert escape(mine.nama) in html and escape(theirs.nama) not in html
    client.force_login(kesbangpol_user)
    html = client.get(url).content.decode()
    assert escape(theirs.nama) in html and escape(mine.nama) not in html


def test_the_sheet_costs_the_same_queries_whatever_its_length(client, cast):
    client.force_login(cast.admin)
    counts = []
    for number in ("000", "003"):  # 15 and 13 steps, 4 and 5 columns, with and without decisions
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("sop-detail", args=[KODE[number]])).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


# ---------------------------------------------------------------------------------------------
# Run list
# ---------------------------------------------------------------------------------------------


def test_the_run_list_shows_my_offices_runs(client, cast):
    mine = cast.start("000", perihal="Pembinaan Kelurahan Sukasari")
    theirs = cast.start("001", perihal="Sosialisasi Pemilu")
    client.force_login(satpol(cast))
    response = client.get(reverse("run-list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert run_pks(response) == [mine.pk]
    assert "Pembinaan Kelurahan Sukasari" in html and "Sosialisasi Pemilu" not in html
    assert reverse("run-detail", args=[mine.pk]) in html
    # The current step and its position.
    task = Task.objects.select_related("step", "position").get(run=mine)
    assert f"{task.step.nomor}. " in html and escape(task.position.name) in html
    # Every filter has a label.
    for field in ("sop", "status", "started_from", "started_until", "overdue"):
        assert f'for="id_{field}"' in html
    client.force_login(cast.admin)
    assert set(run_pks(client.get(reverse("run-list")))) == {mine.pk, theirs.pk}


def test_the_run_list_filters_by_status_and_sop(client, cast):
    running = cast.start("000", perihal="Masih berjalan")
    finished = cast.start("000", perihal="Sudah selesai")
    drive(finished, cast)
    cancelled = cast.start("004", perihal="Dibatalkan")
    engine.run_cancel(run=cancelled, user=cast.admin, reason="Uji")
    client.force_login(satpol(cast))
    url = reverse("run-list")
    assert run_pks(client.get(url, {"status": Run.Status.FINISHED})) == [finished.pk]
    assert run_pks(client.get(url, {"status": Run.Status.RUNNING})) == [running.pk]
    assert run_pks(client.get(url, {"status": Run.Status.CANCELLED})) == [cancelled.pk]
    patroli = Sop.objects.get(kode=KODE["004"])
    assert run_pks(client.get(url, {"sop": patroli.pk})) == [cancelled.pk]
    binpot = Sop.objects.get(kode=KODE["000"])
    assert run_pks(client.get(url, {"sop": binpot.pk, "status": Run.Status.RUNNING})) == [running.pk]
    # Another office's SOP is no choice: the form says so and filters nothing out of sight.
    response = client.get(url, {"sop": cast.revision("001").sop.pk})
    assert "is-invalid" in response.content.decode()


def test_the_run_list_filters_overdue_runs(client, cast):
    late = cast.start("000", perihal="Terlambat")
    on_time = cast.start("000", perihal="Tepat waktu")
    Task.objects.filter(run=late, status__in=Task.OPEN).update(due_at=timezone.now() - dt.timedelta(hours=1))
    client.force_login(satpol(cast))
    response = client.get(reverse("run-list"))
    assert set(run_pks(response)) == {late.pk, on_time.pk}
    assert response.content.decode().count("data-overdue") == 1
    assert run_pks(client.get(reverse("run-list"), {"overdue": "on"})) == [late.pk]


def test_the_run_list_filters_by_period_in_the_office_zone(client, cast):
    wib = ZoneInfo("Asia/Jakarta")
    late_evening = cast.start("000", perihal="Malam")
    next_morning = cast.start("000", perihal="Pagi")
    Run.objects.filter(pk=late_evening.pk).update(started_at=dt.datetime(2025, 3, 10, 23, 30, tzinfo=wib))
    Run.objects.filter(pk=next_morning.pk).update(started_at=dt.datetime(2025, 3, 11, 0, 30, tzinfo=wib))
    client.force_login(satpol(cast))
    url = reverse("run-list")
    assert run_pks(client.get(url, {"started_from": "2025-03-10", "started_until": "2025-03-10"})) == [late_evening.pk]
    assert run_pks(client.get(url, {"started_from": "2025-03-11"})) == [next_morning.pk]
    assert run_pks(client.get(url, {"started_until": "2025-03-11"})) == [next_morning.pk, late_evening.pk]
    assert run_pks(client.get(url, {"started_until": "2025-03-09"})) == []


def test_the_run_list_has_pages_of_25_that_keep_the_filters(client, cast):
    runs = [cast.start("000", perihal=f"Pembinaan {n}") for n in range(30)]
    client.force_login(satpol(cast))
    response = client.get(reverse("run-list"), {"status": Run.Status.RUNNING})
    newest_first = [run.pk for run in reversed(runs)]
    assert run_pks(response) == newest_first[:25]
    html = response.content.decode()
    assert 'href="?status=berjalan&amp;page=2"' in html
    response = client.get(reverse("run-list"), {"status": Run.Status.RUNNING, "page": 2})
    assert run_pks(response) == newest_first[25:]
    assert 'href="?status=berjalan&amp;page=1"' in response.content.decode()


def test_the_run_list_costs_the_same_queries_for_3_or_30_runs(client, cast, django_assert_num_queries):
    def start(n):
        for i in range(n):
            run = cast.start("000" if i % 2 else "004", perihal=f"Uji {i}")
            if i % 3 == 0:  # some with a claimed task, some overdue
                task = Task.objects.get(run=run, status__in=Task.OPEN)
                Task.objects.filter(pk=task.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))

    start(3)
    client.force_login(satpol(cast))
    with CaptureQueriesContext(connection) as queries:
        assert len(run_pks(client.get(reverse("run-list")))) == 3
    # Session, user, standing, SOPs and their revisions (the filter), count, runs, their open tasks,
    # navigation counts.
    assert len(queries) == 9
    start(27)
    with django_assert_num_queries(len(queries)):
        assert len(run_pks(client.get(reverse("run-list")))) == 25
    with django_assert_num_queries(len(queries)):
        assert len(run_pks(client.get(reverse("run-list"), {"overdue": "on", "page": "1"}))) == 10
