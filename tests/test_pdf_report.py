"""The run report: the head's Mengetahui, acting officials by title and name, clock time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone, translation

from procedures import engine, pdf
from procedures.models import Position, Profile
from tests.engine_fixtures import (  # noqa: F401 (fixtures)
    SATPOL,
    _module_cast,
    cast,
    drive,
    english,
)
from tests.factories import UserFactory
from tests.test_pdf import patroli, pdf_text  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db
WIB = ZoneInfo("Asia/Jakarta")


def report_text(run) -> str:
    with translation.override("id"):
        return pdf_text(pdf.render_run_pdf(run))


def test_an_acting_official_is_written_by_title_then_name(patroli):
    text = report_text(patroli)
    assert "Plh. Kasat Pol PP (Bambang Plh)" in text


def test_the_head_acknowledges_the_report(patroli, cast):
    kasat = Position.objects.get(office__name=SATPOL, name="Kasat Pol PP")
    holder = cast.holder(kasat)
    holder.first_name, holder.last_name = "Drs. Agus Salim,", "M.Si"
    holder.save()
    Profile.objects.update_or_create(user=holder, defaults={"nip": "196406061985031015", "pangkat": "Pembina"})
    text = report_text(patroli)
    assert "Mengetahui, Kasat Pol PP Drs. AGUS SALIM, M.Si Pembina NIP. 196406061985031015" in text


def test_the_head_block_prints_its_lines_when_nobody_holds_the_position(patroli):
    Position.objects.get(office__name=SATPOL, name="Kasat Pol PP").holders.clear()
    text = report_text(patroli)
    assert "Mengetahui, Kasat Pol PP NIP." in text


def test_a_plh_of_the_head_acknowledges_under_their_title_when_nobody_holds_it(patroli, cast):
    kasat = Position.objects.get(office__name=SATPOL, name="Kasat Pol PP")
    kasat.holders.clear()
    plh = UserFactory(first_name="Hj. Siti Aminah,", last_name="S.H.", office=kasat.office)
    today = timezone.localdate()
    engine.acting_appoint(position=kasat, user=plh, kind="plh", starts_on=today, ends_on=today,
                          appointed_by=cast.admin)
    text = report_text(patroli)
    assert "Mengetahui, Plh. Kasat Pol PP Hj. SITI AMINAH, S.H." in text


def test_each_step_shows_its_clock_time_beside_its_working_time(patroli):
    report = pdf.run_report(patroli)
    clock = {row.task.step.nomor: row.measured.clock_text for row in report.rows}
    assert clock[1] == "10 menit" and clock[4] == "5 jam"
    assert "5 jam (5 jam menurut jam dinding)" in report_text(patroli)


def test_a_step_done_after_hours_is_0_working_minutes_and_45_on_the_clock(cast):
    # Tuesday: the office closes at 16.00; step 1 is reached at 16.10 and done at 16.55.
    start = dt.datetime(2024, 9, 3, 16, 10, tzinfo=WIB)
    with time_machine.travel(start, tick=False) as traveller:
        run = cast.start("004", perihal="Patroli malam")

        def spend(task):
            traveller.shift(dt.timedelta(minutes=45))

        drive(run, cast, stop_at=2, before=spend)
    row = pdf.run_report(run).rows[0]
    assert row.measured.actual_text == "0 menit" and row.measured.clock_text == "45 menit"
    assert "0 menit (45 menit menurut jam dinding)" in report_text(run)


@pytest.mark.parametrize("minutes, text", [
    (0, "0 menit"), (45, "45 menit"), (24 * 60, "1 hari kalender"), (3 * 24 * 60 + 125, "3 hari kalender 2 jam 5 menit"),
])
def test_clock_time_is_written_in_calendar_days_hours_and_minutes(minutes, text):
    with translation.override("id"):
        assert pdf.format_clock_time(dt.timedelta(minutes=minutes)) == text


def test_a_total_the_sheet_does_not_print_is_labelled_computed(patroli):
    assert not patroli.revision.jumlah_waktu
    assert "(dihitung; lembar SOP tidak mencantumkannya)" in report_text(patroli)
