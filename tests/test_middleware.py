import base64
import hashlib
import re
from pathlib import Path

import django
import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path, reverse

from tests.factories import UserFactory


@pytest.mark.django_db
def test_pages_are_in_indonesian_whatever_the_browser_language(settings):
    settings.LANGUAGE_CODE = "id"
    response = Client().get("/masuk/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "id"
    assert 'lang="id"' in response.content.decode()


@pytest.mark.django_db
def test_the_language_switch_chooses_english(settings):
    settings.LANGUAGE_CODE = "id"
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/masuk/"})
    response = client.get("/masuk/")
    assert response["Content-Language"] == "en"
    assert 'lang="en"' in response.content.decode()


# ---------------------------------------------------------------------------------------------
# Content-Security-Policy
# ---------------------------------------------------------------------------------------------


def _broken(request):
    raise RuntimeError("a bug")


urlpatterns = [path("kaput/", _broken), path("", include("sopflow.urls"))]


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";"))}


def assert_strict(response) -> None:
    directives = policy(response)
    assert directives["script-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"] and directives["base-uri"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in value or "*" in value or "http" in value
                   for values in directives.values() for value in values)


@pytest.mark.django_db
@pytest.mark.urls("tests.test_middleware")
def test_every_kind_of_page_carries_the_strict_policy(client):
    user = UserFactory(is_staff=True, is_superuser=True)
    assert_strict(client.get("/masuk/"))  # signed out
    client.force_login(user)
    assert_strict(client.get("/"))
    assert_strict(client.get("/tidak-ada/"))  # 404
    client.raise_request_exception = False
    response = client.get("/kaput/")
    assert response.status_code == 500
    assert_strict(response)


@pytest.mark.django_db
def test_a_403_page_carries_the_strict_policy():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/masuk/", {"username": "a", "password": "b"})  # no CSRF token
    assert response.status_code == 403
    assert_strict(response)


@pytest.mark.django_db
def test_the_admin_adds_only_the_hash_of_djangos_inline_style(admin_client):
    response = admin_client.get(reverse("admin:procedures_event_changelist"))
    assert response.status_code == 200
    directives = policy(response)
    assert directives["style-src"] == ["'self'", *settings.CSP_ADMIN_STYLE_HASHES]
    assert directives["script-src"] == ["'self'"]


def test_the_admin_style_hash_is_that_of_the_installed_djangos_change_list():
    template = Path(django.__file__).parent / "contrib/admin/templates/admin/change_list.html"
    styles = re.findall(r"<style>(.*?)</style>", template.read_text(), re.S)
    assert [f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'" for text in styles] \
        == settings.CSP_ADMIN_STYLE_HASHES


def test_a_pdf_gets_a_policy_that_runs_no_script_but_lets_the_browser_show_it(rf):
    from procedures.middleware import ContentSecurityPolicyMiddleware

    response = ContentSecurityPolicyMiddleware(lambda request: HttpResponse(b"%PDF-1.7", content_type="application/pdf"))(
        rf.get("/sop/x/pdf"))
    directives = policy(response)
    assert directives["default-src"] == ["'none'"] and "script-src" not in directives
    assert directives["object-src"] == ["'self'"]  # Chromium shows a PDF in an <embed>
    assert directives["frame-ancestors"] == ["'none'"]


def test_the_404_page_is_the_sites_own_in_indonesian_also_with_debug_on(client, settings, db):
    settings.DEBUG = True
    client.force_login(UserFactory())
    response = client.get("/tidak-ada-halaman-ini/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Halaman tidak ditemukan" in html and 'lang="id"' in html
    assert "Using the URLconf" not in html  # not Django's technical page
    # A view's own 404 keeps its message for the user.
    response = client.get(reverse("task-detail", args=[987654]))
    assert response.status_code == 404
    assert "Using the URLconf" not in response.content.decode() and "Halaman tidak ditemukan" in response.content.decode()


def test_the_admin_is_named_administrasi_sopflow_without_an_axes_section(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert "Administrasi sopflow" in html and "Django" not in html
    text = re.sub(r"<[^>]+>", " ", html)  # what a reader sees, not class names such as app-axes
    assert "axes" not in text.lower() and "Keamanan masuk" in text
