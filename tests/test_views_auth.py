"""Signing in and out (Masuk / keluar), changing and resetting one's password, the lockout after
repeated wrong passwords (and what lifts it), and the error pages (403, 404, 500) as a server shows
them (DEBUG off).

These tests keep the site's default language (Indonesian): messages must come translated.
"""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import include, path, reverse

from procedures.models import Position
from tests.engine_fixtures import SATPOL, _module_cast, cast, english  # noqa: F401 (fixtures)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "rahasia-uji-123"  # what UserFactory sets


def boom(request):
    raise RuntimeError("a bug in a view")


# A URLconf with a view that fails, for the 500 page.
urlpatterns = [
    path("rusak/", boom),
    path("", include("sopflow.urls")),
]


@pytest.fixture
def server(settings):
    """As in production: DEBUG off, so Django renders the error templates."""
    settings.DEBUG = False
    return settings


def sign_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


# ---------------------------------------------------------------------------------------------
# Masuk / keluar
# ---------------------------------------------------------------------------------------------


def test_the_login_page_is_indonesian_with_labels(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="id">' in html
    assert 'for="id_username"' in html and 'for="id_password"' in html


def test_a_right_password_leads_to_the_inbox(client):
    user = UserFactory()
    response = sign_in(client, user.username, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("inbox")
    assert client.get(reverse("inbox")).wsgi_request.user == user


def test_it_goes_back_to_the_page_asked_for(client):
    user = UserFactory()
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD,
                                              "next": reverse("sop-list")})
    assert response["Location"] == reverse("sop-list")


def test_a_wrong_password_says_so_in_indonesian(client):
    user = UserFactory()
    response = sign_in(client, user.username, "salah-sandi")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nama pengguna atau kata sandi salah" in html
    assert "alert-danger" in html
    assert "_auth_user_id" not in client.session


def test_five_wrong_passwords_lock_the_login(client, settings):
    settings.AXES_ENABLED = True
    user = UserFactory()
    statuses = [sign_in(client, user.username, f"salah-{n}").status_code for n in range(5)]
    assert statuses[:4] == [200] * 4
    assert statuses[4] in (403, 429)  # the fifth failure locks at once
    # The sixth attempt, even with the right password, is refused.
    response = sign_in(client, user.username, PASSWORD)
    assert response.status_code in (403, 429)
    assert "registration/locked.html" in [t.name for t in response.templates]
    assert "_auth_user_id" not in client.session
    # Another username from the same address is not locked (the lock is per username and address).
    other = UserFactory()
    assert sign_in(client, other.username, PASSWORD).status_code == 302


def test_the_lock_holds_one_username_from_one_address_only(client, settings):
    """A colleague behind the same office NAT signs in; so does the user from another address."""
    settings.AXES_ENABLED = True
    user, colleague = UserFactory(), UserFactory()
    for n in range(5):
        sign_in(client, user.username, f"salah-{n}")
    assert sign_in(client, user.username, PASSWORD).status_code == 429

    assert Client(REMOTE_ADDR="127.0.0.1").post(reverse("login"), {
        "username": colleague.username, "password": PASSWORD}).status_code == 302
    assert Client(REMOTE_ADDR="10.20.30.40").post(reverse("login"), {
        "username": user.username, "password": PASSWORD}).status_code == 302


def test_the_lockout_page_says_how_long_and_how_to_unlock_now(client, settings):
    settings.AXES_ENABLED = True
    user = UserFactory()
    for n in range(5):
        response = sign_in(client, user.username, f"salah-{n}")

    html = response.content.decode()
    assert "Akses masuk dikunci" in html and "15 menit" in html
    assert f'href="{reverse("password_reset")}"' in html
    assert "minta admin membuka kunci akun Anda" in html


def test_the_count_starts_again_after_a_right_password(client, settings):
    settings.AXES_ENABLED = True
    user = UserFactory()
    for n in range(4):
        assert sign_in(client, user.username, f"salah-{n}").status_code == 200
    assert sign_in(client, user.username, PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for n in range(4):
        assert sign_in(client, user.username, f"salah-lagi-{n}").status_code == 200


def test_logout_is_a_post(client):
    client.force_login(UserFactory())
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert client.get(reverse("inbox")).status_code == 302


# ---------------------------------------------------------------------------------------------
# Password change
# ---------------------------------------------------------------------------------------------


def test_anonymous_cannot_change_a_password(client):
    url = reverse("password_change")
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_a_user_changes_their_password(client):
    user = UserFactory()
    client.force_login(user)
    response = client.get(reverse("password_change"))
    assert response.status_code == 200
    html = response.content.decode()
    for field in ("old_password", "new_password1", "new_password2"):
        assert f'for="id_{field}"' in html
    new = "Sandi-baru-yang-panjang-42"
    response = client.post(reverse("password_change"), {"old_password": PASSWORD, "new_password1": new,
                                                        "new_password2": new})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    assert client.get(reverse("password_change_done")).status_code == 200
    user.refresh_from_db()
    assert user.check_password(new)
    # Still signed in: the session survives the change.
    assert client.get(reverse("inbox")).status_code == 200


def test_a_wrong_old_password_changes_nothing(client):
    user = UserFactory()
    client.force_login(user)
    new = "Sandi-baru-yang-panjang-42"
    response = client.post(reverse("password_change"), {"old_password": "bukan-ini", "new_password1": new,
                                                        "new_password2": new})
    assert response.status_code == 200
    assert "Sandi lama Anda yang dimasukkan salah" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_wrong_old_passwords_on_the_password_change_form_lock_the_user_and_end_the_session(client, settings):
    """Someone at a session left open cannot guess its password on the password-change form."""
    settings.AXES_ENABLED = True
    user = UserFactory()
    client.force_login(user)
    new = "Sandi-baru-yang-panjang-42"

    statuses = [client.post(reverse("password_change"), {
        "old_password": f"tebakan-{n}", "new_password1": new, "new_password2": new}).status_code for n in range(5)]

    assert statuses == [200, 200, 200, 200, 429]
    assert "_auth_user_id" not in client.session  # signed out at the limit
    assert client.get(reverse("inbox")).status_code == 302
    # Locked like five wrong sign-ins: the right password from this address is refused too.
    response = sign_in(client, user.username, PASSWORD)
    assert response.status_code == 429
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    # The attempts keep what the form sent, never the passwords typed.
    attempt = AccessAttempt.objects.get(username=user.username)
    assert attempt.failures_since_start >= 5
    assert "tebakan" not in attempt.post_data and new not in attempt.post_data


def test_a_right_old_password_after_a_wrong_one_changes_it_and_the_count_starts_again(client, settings):
    settings.AXES_ENABLED = True
    user = UserFactory()
    client.force_login(user)
    new = "Sandi-baru-yang-panjang-42"
    client.post(reverse("password_change"), {"old_password": "salah", "new_password1": new, "new_password2": new})
    assert AccessAttempt.objects.filter(username=user.username).exists()

    response = client.post(reverse("password_change"), {"old_password": PASSWORD, "new_password1": new,
                                                        "new_password2": new})

    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username=user.username).exists()


# ---------------------------------------------------------------------------------------------
# Password reset by email
# ---------------------------------------------------------------------------------------------


def reset_link(email) -> str:
    """The path of the reset link in an email (it begins with SITE_URL)."""
    link = next(line for line in email.body.splitlines() if "/akun/atur-ulang/" in line)
    assert link.startswith("https://sopflow.example.go.id/")
    return link.removeprefix("https://sopflow.example.go.id")


@pytest.fixture
def site(settings):
    settings.SITE_URL = "https://sopflow.example.go.id"
    return settings


def test_the_login_page_offers_a_password_reset(client):
    assert f'href="{reverse("password_reset")}"' in client.get(reverse("login")).content.decode()


def test_a_password_reset_sets_a_new_password_and_lifts_the_lockout(client, site, mailoutbox):
    site.AXES_ENABLED = True
    user = UserFactory(email="budi@example.go.id", first_name="Budi")
    for n in range(5):
        sign_in(client, user.username, f"salah-{n}")
    assert sign_in(client, user.username, PASSWORD).status_code == 429

    response = client.post(reverse("password_reset"), {"email": "Budi@example.go.id"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert "Periksa email Anda" in client.get(reverse("password_reset_done")).content.decode()
    [email] = mailoutbox
    assert email.to == ["budi@example.go.id"] and "kata sandi baru" in email.subject
    assert "Halo Budi" in email.body and user.username in email.body

    form_page = client.get(reset_link(email), follow=True)  # Django moves the token into the session
    assert form_page.status_code == 200 and form_page.context["validlink"]
    new = "Sandi-baru-yang-panjang-42"
    response = client.post(form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_complete")
    assert "kunci masuk Anda dibuka" in client.get(reverse("password_reset_complete")).content.decode()

    assert sign_in(client, user.username, new).status_code == 302


def test_an_unknown_address_gets_the_same_answer_and_no_email(client, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "tidak-ada@example.go.id"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert mailoutbox == []


def test_a_used_reset_link_says_so_and_offers_a_new_one(client, site, mailoutbox):
    UserFactory(email="budi@example.go.id")
    client.post(reverse("password_reset"), {"email": "budi@example.go.id"})
    link = reset_link(mailoutbox[0])
    form_page = client.get(link, follow=True)
    new = "Sandi-baru-yang-panjang-42"
    client.post(form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})

    again = Client().get(link, follow=True)

    assert again.status_code == 200 and not again.context["validlink"]
    html = again.content.decode()
    assert "Tautan ini tidak berlaku lagi" in html and f'href="{reverse("password_reset")}"' in html


def test_the_reset_link_points_at_site_url_whatever_host_the_request_named(client, site, mailoutbox):
    UserFactory(email="budi@example.go.id")
    client.post(reverse("password_reset"), {"email": "budi@example.go.id"}, HTTP_HOST="evil.example.com")
    assert "evil.example.com" not in mailoutbox[0].body
    reset_link(mailoutbox[0])


# ---------------------------------------------------------------------------------------------
# Error pages
# ---------------------------------------------------------------------------------------------


def test_a_missing_page_is_the_sites_404(client, server):
    client.force_login(UserFactory())
    response = client.get("/tidak-ada-halaman-ini/")
    assert response.status_code == 404
    assert "404.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert '<html lang="id">' in html and 'class="navbar' in html
    assert f'href="{reverse("inbox")}"' in html


def test_another_offices_run_is_the_sites_403(client, cast, server):
    run = cast.start("000")
    outsider = get_user_model().objects.filter(positions__in=Position.objects.exclude(office__name=SATPOL)).first()
    client.force_login(outsider)
    response = client.get(reverse("run-detail", args=[run.pk]))
    assert response.status_code == 403
    assert "403.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert 'class="navbar' in html and f'href="{reverse("inbox")}"' in html
    assert "data-reason" not in html  # PermissionDenied without a message shows no empty box


@pytest.mark.urls(__name__)
def test_a_failing_view_is_the_sites_500(client, server):
    client.raise_request_exception = False
    client.force_login(UserFactory())
    response = client.get("/rusak/")
    assert response.status_code == 500
    assert "500.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert '<html lang="id">' in html
    assert "bootstrap.min.css" in html and 'href="/"' in html
    assert "a bug in a view" not in html


def test_an_expired_form_is_the_sites_403(server):
    server.CSRF_FAILURE_VIEW = "procedures.views.errors.csrf_failure"
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert "403.html" in [t.name for t in response.templates]
    assert "data-reason" in response.content.decode()
