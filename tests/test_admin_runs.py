"""The admin of users, Plt/Plh, runs, tasks and events: read-only history, changes via the engine."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from procedures import engine
from procedures.demo import ADMIN_USERNAME, demo_users_create
from procedures.library import sop_import
from procedures.models import ActingAssignment, Event, Position, Profile, Run, SopRevision, Task
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SEEDS = Path(settings.BASE_DIR) / "fixtures" / "sops"
PRODESKEL = "diskominfo-prodeskel"


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@dataclass
class World:
    admin: object
    revision: SopRevision

    def holder(self, position: Position):
        """The demo user holding the position (demo users hold one position each)."""
        return position.holders.get()

    def start(self, perihal: str = "Pemutakhiran data kelurahan") -> Run:
        first = self.revision.steps.select_related("column__position").order_by("nomor").first()
        return engine.run_start(revision=self.revision, user=self.holder(first.column.position), perihal=perihal)

    def work(self, run: Run) -> Task:
        """Claim and complete the run's open (process) step as its position's holder."""
        task = Task.objects.select_related("step", "position").get(run=run, status__in=Task.OPEN)
        user = self.holder(task.position)
        engine.task_claim(task=task, user=user)
        return engine.task_complete(
            task=task, user=user, ticked=task.step.kelengkapan.values_list("pk", flat=True),
            output_text=f"{task.step.output} (langkah {task.step.nomor})",
        )


@pytest.fixture
def world() -> World:
    """The seed SOPs imported and their demo users, the demo admin among them."""
    for path in sorted(SEEDS.glob("*.yaml")):
        result = sop_import(data=path.read_bytes(), source=path.name)
        assert not result.refused, result.lines()
    demo_users_create()
    return World(
        admin=get_user_model().objects.get(username=ADMIN_USERNAME),
        revision=SopRevision.objects.select_related("sop__office").get(sop__kode=PRODESKEL),
    )


@pytest.fixture
def admin_client(client, world):
    """The demo admin, logged in after the demo users were made (that resets their passwords)."""
    client.force_login(world.admin)
    return client


@pytest.fixture
def run(world) -> Run:
    """A run of Prodeskel two steps in: start, reach, claim, complete, reach, claim, complete …"""
    run = world.start()
    world.work(run)
    world.work(run)
    return run


def staff(*codenames: str):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def events() -> list[dict]:
    return list(Event.objects.order_by("pk").values())


def response_user(client):
    """The user the client is signed in as."""
    return get_user_model().objects.get(pk=client.session["_auth_user_id"])


def message_texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- lists ---------------------------------------------------------------------------------------


CHANGELISTS = [
    "admin:procedures_run_changelist",
    "admin:procedures_task_changelist",
    "admin:procedures_event_changelist",
    "admin:procedures_actingassignment_changelist",
    "admin:auth_user_changelist",
]


@pytest.mark.parametrize("name", CHANGELISTS)
def test_every_changelist_opens(admin_client, run, name):
    assert admin_client.get(reverse(name)).status_code == 200


@pytest.mark.parametrize("name", CHANGELISTS)
def test_changelist_queries_do_not_grow_with_the_runs(admin_client, world, name):
    kasi = Position.objects.get(office=world.revision.sop.office, name="Kasi")

    def add_one(number: int) -> None:
        world.work(world.start(f"Perihal {number}"))
        engine.acting_appoint(position=kasi, user=UserFactory(office=kasi.office), kind="plh",
                              starts_on=dt.date(2025, 1, number), ends_on=dt.date(2025, 1, number),
                              appointed_by=world.admin)

    add_one(1)
    url = reverse(name)
    admin_client.get(url)  # warm up the session and content types
    with CaptureQueriesContext(connection) as one:
        assert admin_client.get(url).status_code == 200
    for number in range(2, 6):
        add_one(number)
    assert Run.objects.count() == 5
    with CaptureQueriesContext(connection) as five:
        response = admin_client.get(url)
    assert response.status_code == 200
    assert response.context["cl"].result_count > 1
    assert len(five) == len(one), [query["sql"] for query in five.captured_queries]


def test_run_list_shows_the_sop_and_who_started(admin_client, run):
    response = admin_client.get(reverse("admin:procedures_run_changelist"))
    content = response.content.decode()
    assert run.perihal in content
    assert f"{run.revision.nama} ({PRODESKEL})" in content
    assert run.started_by.username in content
    assert "running" in content


def test_task_list_filters_the_overdue(admin_client, run):
    url = reverse("admin:procedures_task_changelist")
    assert admin_client.get(url, {"overdue": "yes"}).context["cl"].result_count == 0
    admin = response_user(admin_client)
    with time_machine.travel(timezone.now() + dt.timedelta(days=10)):
        admin_client.force_login(admin)  # a session lasts a working day
        response = admin_client.get(url, {"overdue": "yes"})
    assert [task.pk for task in response.context["cl"].result_list] == [
        Task.objects.get(run=run, status__in=Task.OPEN).pk
    ]


# --- the run page and cancelling ---------------------------------------------------------------------


def test_run_page_shows_its_tasks_and_events(admin_client, run):
    response = admin_client.get(reverse("admin:procedures_run_change", args=[run.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    for task in run.tasks.select_related("step"):
        assert re.search(rf'<td class="field-step_nomor">\s*<p>{task.step.nomor}</p>', content)
    for transition in ("start", "reach", "claim", "complete"):
        assert re.search(rf'<td class="field-transition">\s*<p>{transition}</p>', content)
    assert "menunggu → dikerjakan" in content
    assert 'name="_save"' not in content
    assert reverse("admin:procedures_run_cancel", args=[run.pk]) in content


def test_runs_are_not_added_changed_or_deleted_in_the_admin(admin_client, run):
    assert admin_client.get(reverse("admin:procedures_run_add")).status_code == 403
    change = reverse("admin:procedures_run_change", args=[run.pk])
    assert admin_client.post(change, {"perihal": "Lain"}).status_code == 403
    delete = reverse("admin:procedures_run_delete", args=[run.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    run.refresh_from_db()
    assert run.perihal != "Lain"


def test_cancel_button_cancels_through_the_engine(admin_client, world, run):
    url = reverse("admin:procedures_run_cancel", args=[run.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert 'name="reason"' in page.content.decode()

    response = admin_client.post(url, {"post": "yes", "reason": "Anggaran dialihkan"})

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:procedures_run_change", args=[run.pk])
    run.refresh_from_db()
    assert run.status == Run.Status.CANCELLED
    assert run.cancel_reason == "Anggaran dialihkan"
    cancel = Event.objects.get(run=run, task=None, transition="cancel")
    assert (cancel.actor, cancel.source, cancel.target, cancel.reason) == (
        world.admin, "berjalan", "dibatalkan", "Anggaran dialihkan")
    assert not run.tasks.filter(status__in=Task.OPEN).exists()
    assert run.tasks.filter(status=Task.Status.CANCELLED).count() == 1
    assert message_texts(response) == ["1 run cancelled."]


def test_cancel_without_a_reason_shows_the_form_again(admin_client, run):
    before = events()
    response = admin_client.post(reverse("admin:procedures_run_cancel", args=[run.pk]),
                                 {"post": "yes", "reason": "   "})
    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == ["This field is required."]
    run.refresh_from_db()
    assert run.status == Run.Status.RUNNING
    assert events() == before


def test_cancel_action_asks_for_a_reason_then_cancels_the_chosen_runs(admin_client, world, run):
    other = world.start("Kedua")
    url = reverse("admin:procedures_run_changelist")
    chosen = {"action": "cancel_runs", "_selected_action": [run.pk, other.pk]}

    page = admin_client.post(url, {**chosen, "index": 0})
    assert page.status_code == 200
    assert 'name="reason"' in page.content.decode()
    assert Run.objects.filter(status=Run.Status.RUNNING).count() == 2

    empty = admin_client.post(url, {**chosen, "post": "yes", "reason": ""})
    assert empty.status_code == 200
    assert empty.context["form"].errors["reason"] == ["This field is required."]
    assert Run.objects.filter(status=Run.Status.RUNNING).count() == 2

    response = admin_client.post(url, {**chosen, "post": "yes", "reason": "Salah input"})
    assert response.status_code == 302
    assert set(Run.objects.values_list("status", flat=True)) == {Run.Status.CANCELLED}
    assert Event.objects.filter(transition="cancel", task=None, reason="Salah input").count() == 2


def test_engine_refusals_are_shown_as_messages(admin_client, world, run):
    engine.run_cancel(run=run, user=world.admin, reason="Sudah dibatalkan")
    other = world.start("Kedua")
    url = reverse("admin:procedures_run_changelist")
    response = admin_client.post(url, {"action": "cancel_runs", "_selected_action": [run.pk, other.pk],
                                       "post": "yes", "reason": "Lagi"})
    assert response.status_code == 302
    assert message_texts(response) == [
        f"{run}: this run is cancelled; nothing more can be done in it",
        "1 run cancelled.",
    ]
    other.refresh_from_db()
    assert other.status == Run.Status.CANCELLED
    assert run.events.filter(transition="cancel", task=None).count() == 1


def test_the_engine_decides_who_may_cancel(client, run):
    viewer = staff("view_run")
    client.force_login(viewer)
    response = client.post(reverse("admin:procedures_run_cancel", args=[run.pk]),
                           {"post": "yes", "reason": "Coba-coba"})
    assert response.status_code == 302
    assert message_texts(response) == [
        f"{run}: only whoever started this run, a head or an admin may cancel it"]
    run.refresh_from_db()
    assert run.status == Run.Status.RUNNING


def test_cancelled_run_page_offers_no_cancel_button(admin_client, world, run):
    engine.run_cancel(run=run, user=world.admin, reason="Selesai lebih awal")
    response = admin_client.get(reverse("admin:procedures_run_change", args=[run.pk]))
    assert reverse("admin:procedures_run_cancel", args=[run.pk]) not in response.content.decode()


# --- events cannot be changed or deleted -----------------------------------------------------------


def test_events_cannot_be_changed_or_deleted_even_by_a_superuser(admin_client, run):
    before = events()
    event = Event.objects.filter(run=run).first()
    change = reverse("admin:procedures_event_change", args=[event.pk])
    delete = reverse("admin:procedures_event_delete", args=[event.pk])

    assert admin_client.post(change, {"reason": "diubah", "transition": "finish"}).status_code == 403
    assert admin_client.get(delete).status_code == 403
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert admin_client.get(reverse("admin:procedures_event_add")).status_code == 403
    assert events() == before


def test_event_list_offers_no_delete_action(admin_client, run):
    before = events()
    url = reverse("admin:procedures_event_changelist")
    response = admin_client.get(url)
    content = response.content.decode()
    assert response.context["action_form"] is None
    assert "delete_selected" not in content
    assert 'name="_selected_action"' not in content

    ids = list(Event.objects.values_list("pk", flat=True))
    posted = admin_client.post(url, {"action": "delete_selected", "_selected_action": ids, "post": "yes"})
    assert posted.status_code in (200, 302)
    assert events() == before


def test_event_list_shows_the_audit_trail(admin_client, run):
    response = admin_client.get(reverse("admin:procedures_event_changelist"), {"transition": "complete"})
    rows = list(response.context["cl"].result_list)
    assert len(rows) == 2
    assert {row.actor.username for row in rows} == {
        event.actor.username for event in Event.objects.filter(transition="complete")}
    assert "dikerjakan → selesai" in response.content.decode()


# --- Plt/Plh ---------------------------------------------------------------------------------------


@pytest.fixture
def kasi(world) -> Position:
    return Position.objects.get(office=world.revision.sop.office, name="Kasi")


def appointment(position: Position, user, **changes) -> dict:
    return {"office": position.office_id, "position": position.pk, "user": user.pk, "kind": "plh", "starts_on": "2025-03-03",
            "ends_on": "2025-03-07", "reason": "Kasi cuti tahunan", **changes}


def test_acting_appointment_goes_through_the_engine(admin_client, world, kasi):
    deputy = UserFactory(office=kasi.office)
    response = admin_client.post(reverse("admin:procedures_actingassignment_add"), appointment(kasi, deputy))
    assert response.status_code == 302, response.context["adminform"].form.errors
    acting = ActingAssignment.objects.get()
    assert (acting.position, acting.user, acting.kind, acting.appointed_by) == (kasi, deputy, "plh", world.admin)
    assert (acting.starts_on, acting.ends_on) == (dt.date(2025, 3, 3), dt.date(2025, 3, 7))


def test_acting_appointment_with_dates_reversed_is_a_form_error(admin_client, kasi):
    response = admin_client.post(reverse("admin:procedures_actingassignment_add"),
                                 appointment(kasi, UserFactory(office=kasi.office), ends_on="2025-03-01"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"ends_on": ["the end date is before the start date"]}
    assert not ActingAssignment.objects.exists()


def test_acting_appointment_refused_by_the_engine_is_a_form_error(client, kasi):
    clerk = staff("add_actingassignment", "view_actingassignment")
    Profile.objects.create(user=clerk, office=kasi.office)  # a clerk of the office, not a head
    client.force_login(clerk)
    response = client.post(reverse("admin:procedures_actingassignment_add"), appointment(kasi, UserFactory(office=kasi.office)))
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "only the holder of Kasi, a head above it or an admin may name a Plt/Plh"]
    assert not ActingAssignment.objects.exists()


def test_acting_appointment_can_only_be_ended_early(admin_client, world, kasi):
    acting = engine.acting_appoint(position=kasi, user=UserFactory(office=kasi.office), kind="plt", starts_on=dt.date(2025, 3, 3),
                                   ends_on=dt.date(2025, 3, 31), appointed_by=world.admin)
    url = reverse("admin:procedures_actingassignment_change", args=[acting.pk])
    later = admin_client.post(url, {"ends_on": "2025-04-30", "reason": ""})
    assert later.status_code == 200
    assert later.context["adminform"].form.errors["ends_on"] == [
        "an appointment can only be ended early here; to extend it, appoint again"]

    other = Position.objects.exclude(pk=kasi.pk).first()
    response = admin_client.post(url, {"ends_on": "2025-03-10", "reason": "Kasi kembali", "position": other.pk,
                                       "kind": "plh", "starts_on": "2025-01-01"})
    assert response.status_code == 302
    acting.refresh_from_db()
    assert (acting.ends_on, acting.reason) == (dt.date(2025, 3, 10), "Kasi kembali")
    assert (acting.position, acting.kind, acting.starts_on) == (kasi, "plt", dt.date(2025, 3, 3))


def test_acting_list_shows_who_acts_today(admin_client, world, kasi):
    today = timezone.localdate()
    engine.acting_appoint(position=kasi, user=UserFactory(office=kasi.office), kind="plh", starts_on=today, ends_on=today,
                          appointed_by=world.admin)
    response = admin_client.get(reverse("admin:procedures_actingassignment_changelist"))
    row = response.context["cl"].result_list[0]
    assert response.context["cl"].model_admin.active_today(row) is True
    assert 'alt="True"' in response.content.decode()


def test_only_a_superuser_deletes_an_appointment(client, world, kasi):
    acting = engine.acting_appoint(position=kasi, user=UserFactory(office=kasi.office), kind="plh", starts_on=dt.date(2025, 3, 3),
                                   ends_on=dt.date(2025, 3, 7), appointed_by=world.admin)
    client.force_login(staff("delete_actingassignment", "view_actingassignment"))
    url = reverse("admin:procedures_actingassignment_delete", args=[acting.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    client.force_login(world.admin)
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not ActingAssignment.objects.exists()


# --- users and their positions -------------------------------------------------------------------


def test_user_page_lists_the_positions(admin_client, kasi):
    holder = kasi.holders.get()
    response = admin_client.get(reverse("admin:auth_user_change", args=[holder.pk]))
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert [form.instance.position for form in formset.forms] == [kasi]
    assert "Dinas Komunikasi dan Informatika" in response.content.decode()

    listing = admin_client.get(reverse("admin:auth_user_changelist"), {"q": holder.username})
    assert f'<td class="field-position_names">{kasi.name}</td>' in listing.content.decode()


def test_user_page_adds_a_position(admin_client, kasi):
    user = UserFactory()
    url = reverse("admin:auth_user_change", args=[user.pk])
    page = admin_client.get(url)
    prefix = page.context["inline_admin_formsets"][0].formset.prefix
    data = {  # last login and date joined are read-only on the page
        "username": user.username, "first_name": user.first_name, "last_name": "", "email": "",
        "is_active": "on",
        f"{prefix}-TOTAL_FORMS": "1", f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000",
        f"{prefix}-0-position": kasi.pk,
        "profile-TOTAL_FORMS": "0", "profile-INITIAL_FORMS": "0",  # no NIP, pangkat or office given
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(user.positions.all()) == [kasi]
