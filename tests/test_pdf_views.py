"""The PDF routes: who may download what, the revision and paper asked for, constant queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from procedures import flowchart, pdf
from procedures.library import sop_import
from procedures.models import Position
from tests.engine_fixtures import (  # noqa: F401 (fixtures)
    KODE,
    SATPOL,
    SEEDS,
    _module_cast,
    cast,
    drive,
    english,
)
from tests.test_pdf import mm, page_sizes, pdf_text

pytestmark = pytest.mark.django_db

KASAT = "Kasat Pol PP"
REAL_SHEET_PAGES = flowchart.sheet_pages


@pytest.fixture(autouse=True)
def _quick_sheets(monkeypatch):
    """A small SVG per flowchart page: these tests are about the routes, test_pdf about the drawing."""
    monkeypatch.setattr(flowchart, "sheet_pages", lambda revision, *, width_mm, height_mm: [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_mm}mm" height="{height_mm}mm">'
        f'<text x="5" y="10" font-family="{flowchart.FONT_FAMILY}">{revision.nama}</text></svg>'])


def other_office_user(cast, office_name: str):
    position = Position.objects.filter(holders__isnull=False).exclude(office__name=office_name).select_related("office").first()
    return cast.holder(position)


def second_revision(number: str = "000") -> None:
    """Import the seed again with another name: revision 2."""
    path = next(SEEDS.glob(f"{number}-*.yaml"))
    text = path.read_text(encoding="utf-8").replace("nama: Bina Potensi Masyarakat", "nama: Bina Potensi Masyarakat (Revisi)")
    result = sop_import(data=text.encode(), source=path.name)
    assert result.revision == 2, result.lines()


@pytest.mark.parametrize("name", ["sop-pdf", "run-pdf"])
def test_anonymous_goes_to_login(client, cast, name):
    url = reverse(name, args=[KODE["000"]] if name == "sop-pdf" else [cast.start("000").pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_it_refuses_another_offices_sheet(client, cast):
    client.force_login(other_office_user(cast, SATPOL))
    assert client.get(reverse("sop-pdf", args=[KODE["000"]])).status_code == 403


def test_it_refuses_another_offices_run(client, cast):
    run = cast.start("000")
    client.force_login(other_office_user(cast, SATPOL))
    assert client.get(reverse("run-pdf", args=[run.pk])).status_code == 403


def test_an_unknown_sop_is_not_found(client, cast):
    client.force_login(cast.user(KASAT, SATPOL))
    assert client.get(reverse("sop-pdf", args=["tidak-ada"])).status_code == 404


def test_the_sheet_is_an_inline_pdf_of_the_latest_revision(client, cast):
    second_revision()
    client.force_login(cast.user(KASAT, SATPOL))
    response = client.get(reverse("sop-pdf", args=[KODE["000"]]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="SOP-{KODE["000"]}-rev2.pdf"'
    assert "Bina Potensi Masyarakat (Revisi)" in pdf_text(response.content)


def test_it_gives_another_revision(client, cast):
    second_revision()
    client.force_login(cast.user(KASAT, SATPOL))
    response = client.get(reverse("sop-pdf", args=[KODE["000"]]), {"revisi": "1"})
    assert response["Content-Disposition"] == f'inline; filename="SOP-{KODE["000"]}-rev1.pdf"'
    assert "(Revisi)" not in pdf_text(response.content)


@pytest.mark.parametrize("query", [{"revisi": "9"}, {"revisi": "satu"}, {"kertas": "a3"}])
def test_an_unknown_revision_or_paper_is_not_found(client, cast, query):
    client.force_login(cast.user(KASAT, SATPOL))
    assert client.get(reverse("sop-pdf", args=[KODE["000"]]), query).status_code == 404


@pytest.mark.parametrize("kertas, size, suffix", [("", (210, 297), ""), ("a4", (210, 297), ""),
                                                  ("F4", (215, 330), "-F4"), ("f4", (215, 330), "-F4")])
def test_the_paper_is_chosen_with_kertas(client, cast, kertas, size, suffix):
    client.force_login(cast.user(KASAT, SATPOL))
    response = client.get(reverse("sop-pdf", args=[KODE["000"]]), {"kertas": kertas})
    assert response.status_code == 200
    width, height = page_sizes(response.content)[0]
    assert (mm(width), mm(height)) == size
    assert response["Content-Disposition"].endswith(f'rev1{suffix}.pdf"')


def test_the_sop_page_links_to_its_sheet(client, cast):
    second_revision()
    client.force_login(cast.user(KASAT, SATPOL))
    url = reverse("sop-pdf", args=[KODE["000"]])
    assert f'href="{url}"' in client.get(reverse("sop-detail", args=[KODE["000"]])).content.decode()
    older = client.get(reverse("sop-detail", args=[KODE["000"]]), {"revisi": "1"}).content.decode()
    assert f'href="{url}?revisi=1"' in older


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_sheet_costs_the_same_queries_for_a_small_and_a_large_sop(client, cast, monkeypatch):
    monkeypatch.setattr(flowchart, "sheet_pages", REAL_SHEET_PAGES)  # its queries count too
    client.force_login(cast.user(KASAT, SATPOL))
    small, large = queries(client, reverse("sop-pdf", args=[KODE["004"]])), queries(client, reverse("sop-pdf", args=[KODE["000"]]))
    assert small == large


def test_the_report_costs_the_same_queries_for_one_step_or_all(client, cast):
    short, long = cast.start("004", perihal="satu langkah"), cast.start("004", perihal="sampai selesai")
    drive(short, cast, stop_at=2)
    drive(long, cast)
    client.force_login(cast.user(KASAT, SATPOL))
    assert queries(client, reverse("run-pdf", args=[short.pk])) == queries(client, reverse("run-pdf", args=[long.pk]))


def test_the_report_is_an_inline_pdf(client, cast):
    run = cast.start("004", perihal="Patroli malam")
    drive(run, cast)
    client.force_login(cast.user(KASAT, SATPOL))
    response = client.get(reverse("run-pdf", args=[run.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="Pelaksanaan-{run.pk}.pdf"'
    text = pdf_text(response.content)
    assert "Patroli malam" in text and "within the standard" in text
    width, height = page_sizes(response.content)[0]
    assert (mm(width), mm(height)) == (297, 210)  # landscape: the step table is wide


def test_the_pdf_module_knows_two_papers():
    assert pdf.PAPERS == {"a4": (210, 297), "f4": (215, 330)}
