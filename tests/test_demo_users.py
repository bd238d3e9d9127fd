"""The demo_users command: a table of demo users to sign in with, never when DEBUG is off."""

import io
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from procedures.demo import DEMO_PASSWORD
from procedures.library import sop_import_files
from procedures.models import Position

pytestmark = pytest.mark.django_db

FIXTURES = Path(django_settings.BASE_DIR) / "fixtures" / "sops"


@pytest.fixture(autouse=True)
def _english_and_fast(settings):
    # The output is checked by its English text; the site's default language is Indonesian.
    settings.LANGUAGE_CODE = "en"
    # Some thirty demo passwords: the real hasher would take most of a minute.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def sops():
    results = sop_import_files(files=[(path.name, path.read_bytes()) for path in sorted(FIXTURES.glob("*.yaml"))])
    assert not any(result.refused for result in results), [result.lines() for result in results]


@pytest.fixture
def debug(settings):
    settings.DEBUG = True  # pytest-django runs tests with DEBUG off


def demo_users() -> str:
    out = io.StringIO()
    call_command("demo_users", stdout=out)
    return out.getvalue()


def test_it_prints_every_position_with_its_office_and_the_password(sops, debug):
    out = demo_users()
    positions = Position.objects.filter(columns__isnull=False).distinct().select_related("office")
    assert positions.count() > 10
    for position in positions:
        holder = position.holders.get()
        line = next(line for line in out.splitlines() if line.startswith(holder.username + " "))
        assert position.name in line and position.office.name in line
    assert DEMO_PASSWORD in out
    assert "http://127.0.0.1:8000/" in out
    assert "admin" in out and "superuser" in out


def test_the_printed_users_can_sign_in_with_the_password(sops, debug):
    demo_users()
    user = get_user_model().objects.get(username="kasat-pol-pp")
    assert user.check_password(DEMO_PASSWORD)
    assert get_user_model().objects.get(username="admin").is_superuser


def test_it_refuses_with_debug_off_and_creates_nothing(sops, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        demo_users()
    assert not get_user_model().objects.exists()
    assert not Position.objects.filter(holders__isnull=False).exists()


def test_running_it_twice_is_fine(sops, debug):
    first = demo_users()
    users = list(get_user_model().objects.order_by("pk").values_list("pk", "username"))
    holders = list(Position.holders.through.objects.order_by("pk").values_list("position_id", "user_id"))
    second = demo_users()
    assert first == second
    assert list(get_user_model().objects.order_by("pk").values_list("pk", "username")) == users
    assert list(Position.holders.through.objects.order_by("pk").values_list("position_id", "user_id")) == holders


def test_without_sops_it_makes_the_admin_and_says_what_to_import(debug):
    out = demo_users()
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["admin"]
    assert "import_sops" in out
