"""The admin of accounts (procedures.admin_accounts): deactivating users through the engine, never
silently, and sign-in lockouts shown in Indonesian with an "unlock" action.
"""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from procedures import engine
from procedures.models import Event, Position, Task
from tests.engine_fixtures import SATPOL, _module_cast, cast, english, open_task  # noqa: F401 (fixtures)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

KASI = "Kasi Bina Potensi Masyarakat"
PASSWORD = "rahasia-uji-123"  # what UserFactory sets
CHANGELIST = reverse("admin:auth_user_changelist")


@pytest.fixture
def admin_client(client, cast):
    client.force_login(cast.admin)
    return client


def kasi_position() -> Position:
    return Position.objects.get(name=KASI, office__name=SATPOL)


def claimed_by_kasi(cast) -> Task:
    run = cast.start("000", perihal="Pembinaan RW 05")
    return engine.task_claim(task=open_task(run), user=cast.user(KASI))


def deactivate(client, users, **data):
    return client.post(CHANGELIST, {"action": "deactivate_users", "_selected_action": [user.pk for user in users],
                                    **data})


def message_texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def change_form_data(client, user, **changes) -> dict:
    """What the user's page posts back unchanged, with ``changes``."""
    page = client.get(reverse("admin:auth_user_change", args=[user.pk]))
    formset = page.context["inline_admin_formsets"][0].formset
    profile = page.context["inline_admin_formsets"][1].formset  # NIP, pangkat, office: left empty
    data = {name: value for name, value in {
        **{f"{profile.prefix}-{key}": value for key, value in profile.management_form.initial.items()},
        "username": user.username, "first_name": user.first_name, "last_name": user.last_name, "email": user.email,
        "is_active": "on" if user.is_active else "",
        **{f"{formset.prefix}-{key}": value for key, value in formset.management_form.initial.items()},
    }.items()}
    for number, holding in enumerate(formset.forms):
        data[f"{formset.prefix}-{number}-id"] = holding.instance.pk
        data[f"{formset.prefix}-{number}-position"] = holding.instance.position_id
        data[f"{formset.prefix}-{number}-user"] = user.pk
    data.update(changes)
    return {name: value for name, value in data.items() if value != ""}


# ---------------------------------------------------------------------------------------------
# Deactivating a user
# ---------------------------------------------------------------------------------------------


def test_the_deactivate_action_shows_what_it_does_then_releases_through_the_engine(admin_client, cast):
    task = claimed_by_kasi(cast)
    kasi, colleague = cast.user(KASI), UserFactory(first_name="Rina")
    kasi_position().holders.add(colleague)

    page = deactivate(admin_client, [kasi])

    assert page.status_code == 200
    html = page.content.decode()
    assert "Pembinaan RW 05" in html and "step 1" in html  # the claimed task that goes back
    assert "leave_to_nobody" not in html  # a colleague holds the position: nothing to confirm
    response = deactivate(admin_client, [kasi], post="yes", reason="Pindah tugas")
    assert response.status_code == 302
    assert message_texts(response) == [f"{kasi.get_full_name()} deactivated; 1 claimed task went back to its position."]
    kasi.refresh_from_db()
    task.refresh_from_db()
    assert not kasi.is_active and (task.status, task.assignee) == (Task.Status.WAITING, None)
    event = Event.objects.filter(task=task).latest("pk")
    assert (event.transition, event.actor) == ("release", cast.admin) and event.reason.endswith(": Pindah tugas")


def test_the_other_holders_see_why_on_the_runs_timeline(admin_client, cast):
    task = claimed_by_kasi(cast)
    kasi, colleague = cast.user(KASI), UserFactory(first_name="Rina")
    kasi_position().holders.add(colleague)
    deactivate(admin_client, [kasi], post="yes", reason="Pindah tugas")

    other = Client()
    other.force_login(colleague)
    html = other.get(reverse("run-detail", args=[task.run_id])).content.decode()

    assert f"{kasi.get_full_name()} was deactivated; the task goes back to the holders of {KASI}: Pindah tugas" in html


def test_the_action_asks_to_confirm_when_open_tasks_would_wait_for_nobody(admin_client, cast):
    task = claimed_by_kasi(cast)
    kasi = cast.user(KASI)

    page = deactivate(admin_client, [kasi])
    assert "Nobody else may act for these positions" in page.content.decode()
    refused = deactivate(admin_client, [kasi], post="yes")
    assert refused.status_code == 200 and refused.context["form"].errors["leave_to_nobody"]
    kasi.refresh_from_db()
    assert kasi.is_active and Task.objects.get(pk=task.pk).status == Task.Status.IN_PROGRESS

    response = deactivate(admin_client, [kasi], post="yes", leave_to_nobody="on")

    assert response.status_code == 302
    kasi.refresh_from_db()
    assert not kasi.is_active and Task.objects.get(pk=task.pk).status == Task.Status.WAITING


def test_an_admin_cannot_deactivate_themselves(admin_client, cast):
    response = deactivate(admin_client, [cast.admin], post="yes")

    assert response.status_code == 302
    assert message_texts(response) == [f"{cast.admin.username}: you cannot deactivate yourself; ask another admin"]
    cast.admin.refresh_from_db()
    assert cast.admin.is_active


def test_a_staff_user_who_may_only_view_users_gets_no_deactivate_action(client, cast):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_user"))
    client.force_login(viewer)

    response = client.get(CHANGELIST)

    assert response.status_code == 200 and "deactivate_users" not in response.content.decode()


def test_unticking_active_on_the_users_page_releases_through_the_engine(admin_client, cast):
    task = claimed_by_kasi(cast)
    kasi = cast.user(KASI)
    kasi_position().holders.add(UserFactory())

    response = admin_client.post(reverse("admin:auth_user_change", args=[kasi.pk]),
                                 change_form_data(admin_client, kasi, is_active=""))

    assert response.status_code == 302, response.context["adminform"].form.errors
    kasi.refresh_from_db()
    task.refresh_from_db()
    assert not kasi.is_active and task.status == Task.Status.WAITING
    assert Event.objects.filter(task=task, transition="release", actor=cast.admin).count() == 1


def test_unticking_active_of_the_only_holder_is_refused_and_points_at_the_action(admin_client, cast):
    task = claimed_by_kasi(cast)
    kasi = cast.user(KASI)

    response = admin_client.post(reverse("admin:auth_user_change", args=[kasi.pk]),
                                 change_form_data(admin_client, kasi, is_active=""))

    assert response.status_code == 200
    [error] = response.context["adminform"].form.errors["is_active"]
    assert f"is the only one who may act for {KASI} (1 open task(s))" in error
    assert "Deactivate (their claimed tasks go back to their positions)" in error
    kasi.refresh_from_db()
    assert kasi.is_active and Task.objects.get(pk=task.pk).status == Task.Status.IN_PROGRESS


def test_a_user_with_history_cannot_be_deleted_only_deactivated(admin_client, cast):
    task = claimed_by_kasi(cast)
    kasi = cast.user(KASI)
    url = reverse("admin:auth_user_delete", args=[kasi.pk])

    page = admin_client.get(url)
    response = admin_client.post(url, {"post": "yes"})

    assert page.context["protected"]  # the events (and the task) that name them
    assert response.status_code == 200 and response.context["protected"]  # the same page again
    assert get_user_model().objects.filter(pk=kasi.pk).exists()
    assert Event.objects.filter(task=task, actor=kasi).exists()


# ---------------------------------------------------------------------------------------------
# Sign-in lockouts
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def locked(settings):
    """A user locked out after five wrong passwords from 127.0.0.1."""
    settings.AXES_ENABLED = True
    user = UserFactory()
    visitor = Client()
    for n in range(5):
        visitor.post(reverse("login"), {"username": user.username, "password": f"salah-{n}"})
    assert visitor.post(reverse("login"), {"username": user.username, "password": PASSWORD}).status_code == 429
    return user


def test_lockouts_are_listed_in_indonesian_under_sign_in_security(admin_client, locked, settings):
    settings.LANGUAGE_CODE = "id"

    index = admin_client.get(reverse("admin:index")).content.decode()
    listing = admin_client.get(reverse("admin:axes_accessattempt_changelist"))

    assert "Keamanan masuk" in index and ">Axes<" not in index
    html = listing.content.decode()
    assert locked.username in html and "127.0.0.1" in html
    assert "Terkunci sampai" in html and "Buka kunci" in html
    assert "Hapus" not in html  # unlocking says what deleting the rows means


def test_unlock_lets_the_user_sign_in_again_at_once(admin_client, locked):
    attempt = AccessAttempt.objects.get(username=locked.username)

    response = admin_client.post(reverse("admin:axes_accessattempt_changelist"), {
        "action": "unlock", "_selected_action": [attempt.pk]})

    assert response.status_code == 302
    assert message_texts(response) == [f"1 sign-in unlocked: {locked.username} (127.0.0.1)."]
    assert Client().post(reverse("login"), {"username": locked.username, "password": PASSWORD}).status_code == 302


def test_a_staff_user_who_may_only_view_lockouts_cannot_unlock(client, locked):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_accessattempt"))
    client.force_login(viewer)

    response = client.get(reverse("admin:axes_accessattempt_changelist"))

    assert response.status_code == 200 and locked.username in response.content.decode()
    assert 'value="unlock"' not in response.content.decode()
