"""The office's logo: uploaded in the admin, checked and re-encoded before it is stored."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from procedures.logos import logo_sanitise
from procedures.models import Office
from tests.factories import OfficeFactory, UserFactory

pytestmark = pytest.mark.django_db

SCRIPT = b"<script>alert(1)</script>"


def png(size=(40, 20), color=(200, 0, 0, 255)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, color).save(out, format="PNG")
    return out.getvalue()


def jpeg(size=(40, 20)) -> bytes:
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010E] = "secret description"  # ImageDescription
    Image.new("RGB", size, (0, 0, 200)).save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


HOSTILE_SVG = b"""<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" viewBox="0 0 10 10" onload="alert(1)">
  <script>alert(2)</script>
  <style>@import url(https://evil.example/x.css); .a { fill: red }</style>
  <defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient></defs>
  <rect class="a" width="10" height="10" fill="url(#g)" onclick="alert(3)" inkscape:label="box"/>
  <circle cx="5" cy="5" r="2" fill="url(https://evil.example/fill)" style="fill: url('http://evil.example/')"/>
  <use xlink:href="https://evil.example/sprite.svg#logo"/>
  <use href="#g"/>
  <image href="file:///etc/passwd" width="1" height="1"/>
  <foreignObject width="10" height="10"><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>
  <a href="javascript:alert(4)"><path d="M0 0L1 1"/></a>
</svg>"""


# ---------------------------------------------------------------------------------------------
# The sanitiser
# ---------------------------------------------------------------------------------------------


def test_a_png_with_a_trailing_script_is_re_encoded_without_it():
    logo = logo_sanitise(png() + SCRIPT, name="logo.png")
    assert logo.extension == "png" and logo.content.startswith(b"\x89PNG")
    assert b"script" not in logo.content
    assert Image.open(io.BytesIO(logo.content)).size == (40, 20)


def test_a_jpeg_stays_a_jpeg_without_its_metadata():
    logo = logo_sanitise(jpeg() + SCRIPT, name="logo.jpg")
    assert logo.extension == "jpg" and logo.content.startswith(b"\xff\xd8\xff")
    assert b"script" not in logo.content and b"secret" not in logo.content


def test_a_large_image_is_scaled_down():
    logo = logo_sanitise(png(size=(3000, 1500)))
    assert Image.open(io.BytesIO(logo.content)).size == (600, 300)


def test_an_svg_keeps_its_drawing_and_loses_scripts_handlers_and_outside_references():
    logo = logo_sanitise(HOSTILE_SVG, name="logo.svg")
    text = logo.content.decode()
    assert logo.extension == "svg"
    for gone in ("script", "alert", "onload", "onclick", "evil.example", "@import", "foreignObject", "passwd",
                 "javascript", "<image", "inkscape", "<a "):
        assert gone not in text, gone
    assert "<rect" in text and 'fill="url(#g)"' in text and 'href="#g"' in text and "linearGradient" in text


@pytest.mark.parametrize("data", [
    b'<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
    b"<html><body>not a drawing</body></html>",
    b"<svg xmlns='http://www.w3.org/2000/svg'><rect",
])
def test_an_svg_that_is_no_plain_drawing_is_refused(data):
    with pytest.raises(ValidationError):
        logo_sanitise(data, name="logo.svg")


@pytest.mark.parametrize("data", [b"%PDF-1.4 hello", b"MZ\x90\x00", b"GIF89a...", b"\x89PNG\r\n\x1a\nbroken"])
def test_a_file_that_is_no_png_jpeg_or_svg_is_refused(data):
    with pytest.raises(ValidationError, match="PNG"):
        logo_sanitise(data, name="x.png")


def test_an_oversized_file_is_refused_by_its_size(settings):
    settings.LOGO_MAX_BYTES = 1000
    with pytest.raises(ValidationError, match="at most 1 KB"):
        logo_sanitise(png() + b"\0" * 2000)


def test_a_decompression_bomb_is_refused_by_its_pixel_count(monkeypatch):
    monkeypatch.setattr("procedures.logos.MAX_PIXELS", 100)
    with pytest.raises(ValidationError, match="pixels"):
        logo_sanitise(png(size=(20, 20)))


# ---------------------------------------------------------------------------------------------
# The admin
# ---------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def post_office(client, office: Office, **extra):
    url = reverse("admin:procedures_office_change", args=[office.pk])
    page = client.get(url)
    data = {"name": office.name, "time_zone": office.time_zone, "parent": ""}
    for formset in page.context["inline_admin_formsets"]:
        data.update({f"{formset.formset.prefix}-{key}": value
                     for key, value in formset.formset.management_form.initial.items()})
    data.update(extra)
    return client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")


def test_an_admin_uploads_a_logo_that_is_stored_re_encoded(admin_client):
    office = OfficeFactory()
    response = post_office(admin_client, office, logo=SimpleUploadedFile("kop.png", png() + SCRIPT, "image/png"))
    assert response.status_code == 302
    office.refresh_from_db()
    assert office.logo.name.startswith("logos/") and office.logo.name.endswith(".png")
    with office.logo.open("rb") as file:
        assert b"script" not in file.read()
    page = admin_client.get(reverse("admin:procedures_office_change", args=[office.pk])).content.decode()
    assert 'src="data:image/png;base64,' in page


def test_a_hostile_svg_is_stored_without_its_script(admin_client):
    office = OfficeFactory()
    post_office(admin_client, office, logo=SimpleUploadedFile("kop.svg", HOSTILE_SVG, "image/svg+xml"))
    office.refresh_from_db()
    with office.logo.open("rb") as file:
        content = file.read()
    assert b"<rect" in content and b"script" not in content and b"evil" not in content


@pytest.mark.parametrize("name, data, message", [
    ("kop.exe", b"MZ\x90\x00" * 10, "is not a PNG, JPEG or SVG image"),
    ("kop.svg", b"<html/>", "could not be read as a drawing"),
])
def test_a_bad_logo_is_a_form_error_and_nothing_is_stored(admin_client, name, data, message):
    office = OfficeFactory()
    response = post_office(admin_client, office, logo=SimpleUploadedFile(name, data))
    assert response.status_code == 200
    assert message in response.context["adminform"].form.errors["logo"][0]
    office.refresh_from_db()
    assert not office.logo


def test_an_oversized_logo_is_a_form_error(admin_client, settings):
    settings.LOGO_MAX_BYTES = 2048
    office = OfficeFactory()
    response = post_office(admin_client, office, logo=SimpleUploadedFile("kop.png", png() + b"\0" * 4096))
    assert "at most 2 KB" in response.context["adminform"].form.errors["logo"][0]


@pytest.mark.django_db(transaction=True)
def test_removing_the_logo_deletes_its_file(admin_client):
    office = OfficeFactory()
    post_office(admin_client, office, logo=SimpleUploadedFile("kop.png", png()))
    office.refresh_from_db()
    stored = office.logo.name
    post_office(admin_client, office, logo_remove="on")
    office.refresh_from_db()
    assert not office.logo
    assert not office.logo.storage.exists(stored)


def test_a_kasubag_who_may_only_view_offices_sees_the_logo_without_a_form(client):
    from django.contrib.auth.models import Permission

    office = OfficeFactory()
    viewer = UserFactory(is_staff=True, office=office)
    viewer.user_permissions.add(Permission.objects.get(codename="view_office"))
    client.force_login(viewer)
    response = client.get(reverse("admin:procedures_office_change", args=[office.pk]))
    assert response.status_code == 200
    assert 'type="file"' not in response.content.decode()
