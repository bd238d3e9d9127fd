"""The identity page as offices print it: kop, logo, Disahkan oleh, dates, footer, orientation."""

from __future__ import annotations

import io
import subprocess

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import translation
from PIL import Image

from procedures import pdf
from procedures.models import Position, Profile, SopRevision
from tests.engine_fixtures import (  # noqa: F401 (fixtures)
    KODE,
    SATPOL,
    _module_cast,
    cast,
    english,
)
from tests.test_pdf import mm, page_sizes, pdf_text

pytestmark = pytest.mark.django_db


def render(revision: SopRevision, **options) -> bytes:
    with translation.override("id"):
        return pdf.render_sop_pdf(revision, **options)


def page_texts(content: bytes) -> list[str]:
    """The text of each page (``pdftotext -raw``), whitespace made single spaces."""
    result = subprocess.run(["pdftotext", "-raw", "-", "-"], input=content, capture_output=True, check=True)
    return [" ".join(page.split()) for page in result.stdout.decode().split("\f") if page.strip()]


def images(content: bytes) -> list[str]:
    result = subprocess.run(["pdfimages", "-list", "-"], input=content, capture_output=True, check=True)
    return result.stdout.decode().splitlines()[2:]


def test_the_kop_prints_its_lines_top_to_bottom(cast):
    text = pdf_text(render(cast.revision("002")))
    assert "KEPOLISIAN NEGARA REPUBLIK INDONESIA DAERAH GORONTALO RESOR GORONTALO KOTA" in text
    assert "PEMERINTAH KOTA TANGERANG KANTOR KESATUAN BANGSA DAN POLITIK" in pdf_text(render(cast.revision("001")))


def test_without_a_kop_the_office_heads_the_page(cast):
    revision = cast.revision("003")
    assert not revision.kop
    assert "DINAS KOMUNIKASI DAN INFORMATIKA" in pdf_text(render(revision))


def test_the_logo_prints_in_the_kop_box_and_the_box_stays_empty_without_one(cast):
    revision = cast.revision("002")
    assert images(render(revision)) == []
    office = revision.sop.office
    out = io.BytesIO()
    Image.new("RGB", (60, 60), (0, 90, 0)).save(out, format="PNG")
    office.logo.save("logo.png", ContentFile(out.getvalue()))
    lines = images(render(cast.revision("002")))
    assert len(lines) == 1 and "60    60" in " ".join(lines[0].split()[3:5]).replace(" ", "    ")


def test_an_svg_logo_prints_too(cast):
    revision = cast.revision("001")
    office = revision.sop.office
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#060"/></svg>'
    office.logo.save("logo.svg", ContentFile(svg))
    content = render(cast.revision("001"))
    assert "PEMERINTAH KOTA TANGERANG" in pdf_text(content)  # drawn as vector: no raster image to list


def test_the_signer_prints_every_line_with_the_name_in_capitals(cast):
    text = pdf_text(render(cast.revision("002")))
    assert "Kapolres Gorontalo Kota ROBIN LUMBAN RAJA, S.I.K. M.Si Ajun Komisaris Besar Polisi NRP. 76050993" in text


@pytest.mark.parametrize("name, printed", [
    ("Drs. Bambang Sutrisno, M.Si", "Drs. BAMBANG SUTRISNO, M.Si"),
    ("h. abdul rahman", "H. ABDUL RAHMAN"),
    ("Ir. H. Sri Wahyuni, S.T., M.T.", "Ir. H. SRI WAHYUNI, S.T., M.T."),
    ("", ""),
])
def test_a_name_is_written_in_capitals_its_titles_as_they_are(name, printed):
    assert pdf.name_in_capitals(name) == printed


def test_an_unsigned_sheet_prints_the_lines_to_fill_in(cast):
    revision = cast.revision("000")
    assert not revision.disahkan_nama
    page = page_texts(render(revision))[0]
    assert "Disahkan oleh" in page and "NIP." in page


def test_blank_signer_lines_are_filled_from_the_profile_of_the_positions_holder(cast):
    revision = cast.revision("004")
    SopRevision.objects.filter(pk=revision.pk).update(
        disahkan_jabatan="Kasat Pol PP", disahkan_nama="", disahkan_pangkat="", disahkan_nip="")
    kasat = Position.objects.get(office__name=SATPOL, name="Kasat Pol PP")
    holder = cast.holder(kasat)
    holder.first_name, holder.last_name = "Drs. Agus Salim,", "M.Si"
    holder.save()
    Profile.objects.update_or_create(user=holder, defaults={"nip": "196406061985031015",
                                                             "pangkat": "Pembina Tk.I, IV/b"})
    text = pdf_text(render(cast.revision("004")))
    assert "Kasat Pol PP Drs. AGUS SALIM, M.Si Pembina Tk.I, IV/b NIP. 196406061985031015" in text


def test_a_signer_the_file_names_is_not_given_another_persons_number(cast):
    revision = cast.revision("004")
    SopRevision.objects.filter(pk=revision.pk).update(
        disahkan_jabatan="Kasat Pol PP", disahkan_nama="Someone Else", disahkan_pangkat="", disahkan_nip="")
    kasat = Position.objects.get(office__name=SATPOL, name="Kasat Pol PP")
    Profile.objects.update_or_create(user=cast.holder(kasat), defaults={"nip": "196406061985031015"})
    signer = pdf.sheet_signer(cast.revision("004"))
    assert signer.nama == "Someone Else" and signer.nip == ""


def test_an_electronic_signature_prints_the_statement_instead_of_the_box(cast):
    revision = cast.revision("003")
    assert revision.ditandatangani_elektronik
    text = pdf_text(render(revision))
    assert "Telah ditandatangani secara elektronik oleh Kepala Bidang Layanan Komunikasi dan Informatika" in text
    assert "NIP." not in page_texts(render(revision))[0]  # the file gives none, and no line to fill in


def test_a_date_given_as_a_month_prints_as_month_and_year(cast):
    page = page_texts(render(cast.revision("001")))[0]
    assert "Tanggal Pembuatan September 2018" in page
    assert "Tanggal Efektif September 2018" in page


@pytest.mark.parametrize("number", ["002", "003"])
def test_every_page_names_the_sop_by_its_nomor_and_nama(cast, number):
    revision = cast.revision(number)
    expected = " ".join(f"{revision.nomor} · {revision.nama}".split()) if revision.nomor else revision.nama
    pages = page_texts(render(revision))
    for i, page in enumerate(pages, start=1):
        assert expected in page, i
        assert f"Halaman {i} dari {len(pages)}" in page
        assert revision.sop.kode not in page


def test_the_identity_page_may_be_landscape(cast):
    sizes = page_sizes(render(cast.revision("004"), orientation="lanskap"))
    assert all(mm(width) == 297 and mm(height) == 210 for width, height in sizes)


def test_a_landscape_identity_page_stays_one_page(cast):
    revision = cast.revision("001")  # lists long enough to fill a portrait page
    portrait, landscape = render(revision), render(revision, orientation="lanskap")
    assert len(page_sizes(landscape)) == len(page_sizes(portrait))
    assert "Pencatatan dan Pendataan" in page_texts(landscape)[0]


def test_an_unknown_orientation_is_refused(cast):
    with pytest.raises(ValueError, match="orientation"):
        pdf.render_sop_pdf(cast.revision("004"), orientation="miring")


def test_the_address_takes_orientasi(client, cast):
    client.force_login(cast.user("Kasat Pol PP", SATPOL))
    url = reverse("sop-pdf", args=[KODE["004"]])
    response = client.get(url, {"orientasi": "lanskap"})
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('rev1-lanskap.pdf"')
    width, height = page_sizes(response.content)[0]
    assert width > height
    assert client.get(url, {"orientasi": "miring"}).status_code == 404
