"""A small, hand-checked set of runs for the monitoring tests (procedures.monitoring).

Office "Kantor Uji" (WIB, default hours) and "Kantor Timur" (WITA) run the sample SOP of
tests/sop_samples.py (1 Kepala 15 menit; 2 Staf 1 hari; 3 Kepala decision 1 jam, Tidak back to 2;
4 Staf 1–2 menit); "Dinas Induk" is the superior office of both. Every action happens at a fixed
moment (time_machine), so the figures below are exact:

* run A (Tue 4 Aug 2026): every step in time;
* run B (Fri 14 Aug): step 2 done Wed 19 Aug, over the weekend and Independence Day (Mon 17 Aug):
  1155 working minutes against 540; step 3 took 120 against 60;
* run C (Mon 7 Sep): Tidak at step 3 sends it back to step 2; the second answer is a Plh's;
* run D (Kantor Timur, WITA, Tue 4 Aug): step 1 reached 07.00 WITA, done 07.40 (10 working minutes),
  step 2 still open: stuck;
* run E (Tue 8 Sep): cancelled;
* run F (Thu 10 Sep): step 1 done 08.10; the Staf sends step 2 back (Kembalikan, engine.task_return,
  outside the sheet's drawn flow) at 09.00; step 1 done again 09.10; step 2 open, not yet due.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import time_machine

from procedures import engine
from procedures.library import sop_import
from procedures.models import ActingAssignment, Office, Position, Run, Sop, Task
from tests.factories import UserFactory
from tests.sop_samples import sample

WIB, WITA = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar")
NOW = dt.datetime(2026, 9, 10, 12, 0, tzinfo=WIB)


def at(month: int, day: int, hour: int, minute: int = 0, zone=WIB) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=zone)


@dataclass
class MonitoringWorld:
    uji: Office
    timur: Office
    induk: Office
    sop: Sop
    sop_timur: Sop
    kepala: object
    staf: object
    plh: object
    kepala_timur: object
    staf_timur: object
    kadis: object
    runs: dict


def _act(run: Run, user, when: dt.datetime, decision: str | None = None, reason: str = "") -> Task:
    with time_machine.travel(when, tick=False):
        task = run.tasks.get(status__in=Task.OPEN)
        items = list(task.step.kelengkapan.values_list("pk", flat=True))
        if decision:
            return engine.task_decide(task=task, user=user, decision=decision, reason=reason, ticked=items)
        return engine.task_complete(task=task, user=user, ticked=items, output_text="selesai")


def _start(sop: Sop, user, when: dt.datetime, perihal: str) -> Run:
    with time_machine.travel(when, tick=False):
        return engine.run_start(revision=sop.revisions.get(), user=user, perihal=perihal)


def _office_sop(name: str, zone: str) -> tuple[Office, Sop, object, object]:
    office = Office.objects.create(name=name, time_zone=zone)
    result = sop_import(data=sample(**{"instansi: Kantor Uji": f"instansi: {name}"}).encode(), source="uji.yaml")
    assert not result.refused, result.problems
    kepala, staf = UserFactory(office=office), UserFactory(office=office)
    Position.objects.get(office=office, name="Kepala").holders.add(kepala)
    Position.objects.get(office=office, name="Staf").holders.add(staf)
    return office, Sop.objects.get(office=office), kepala, staf


def build_world(*, runs: int = 1) -> MonitoringWorld:
    """The offices, people and runs above; ``runs`` > 1 repeats run A (for query counts)."""
    induk = Office.objects.create(name="Dinas Induk")
    uji, sop, kepala, staf = _office_sop("Kantor Uji", Office.TimeZone.WIB)
    timur, sop_timur, kepala_timur, staf_timur = _office_sop("Kantor Timur", Office.TimeZone.WITA)
    Office.objects.filter(pk__in=[uji.pk, timur.pk]).update(parent=induk)
    kadis = UserFactory(office=induk)
    Position.objects.create(office=induk, name="Kepala Dinas", level=Position.Level.LEADER).holders.add(kadis)
    plh = UserFactory(office=uji)
    ActingAssignment.objects.create(position=Position.objects.get(office=uji, name="Kepala"), user=plh,
                                    kind=ActingAssignment.Kind.PLH, starts_on=dt.date(2026, 9, 7),
                                    ends_on=dt.date(2026, 9, 7), appointed_by=kepala)
    made = {}
    for index in range(runs):
        day = 4 if index == 0 else 5 + (index % 2)  # more runs on Wed/Thu 5-6 Aug, all in time
        run = made["A" if index == 0 else f"A{index}"] = _start(sop, kepala, at(8, day, 8), f"Patroli A{index}")
        _act(run, kepala, at(8, day, 8, 10))
        _act(run, staf, at(8, day, 14, 10))
        _act(run, kepala, at(8, day, 14, 40), "ya")
        _act(run, staf, at(8, day, 14, 41))
    run = made["B"] = _start(sop, kepala, at(8, 14, 8), "Patroli B")
    _act(run, kepala, at(8, 14, 8, 15))
    _act(run, staf, at(8, 19, 10))
    _act(run, kepala, at(8, 19, 12), "ya")
    _act(run, staf, at(8, 19, 12, 2))
    run = made["C"] = _start(sop, kepala, at(9, 7, 8), "Patroli C")
    _act(run, kepala, at(9, 7, 8, 5))
    _act(run, staf, at(9, 7, 9, 5))
    _act(run, kepala, at(9, 7, 9, 35), "tidak", "Laporan belum lengkap")
    _act(run, staf, at(9, 7, 10, 35))
    _act(run, plh, at(9, 7, 11), "ya")
    _act(run, staf, at(9, 7, 11, 1))
    run = made["D"] = _start(sop_timur, kepala_timur, at(8, 4, 7, 0, WITA), "Patroli Timur")
    _act(run, kepala_timur, at(8, 4, 7, 40, WITA))
    run = made["E"] = _start(sop, kepala, at(9, 8, 9), "Patroli E")
    with time_machine.travel(at(9, 8, 9, 30), tick=False):
        engine.run_cancel(run=run, user=kepala, reason="Batal")
    run = made["F"] = _start(sop, kepala, at(9, 10, 8), "Patroli F")
    _act(run, kepala, at(9, 10, 8, 10))
    with time_machine.travel(at(9, 10, 9), tick=False):
        engine.task_return(task=run.tasks.get(status__in=Task.OPEN), user=staf, reason="Foto belum dilampirkan")
    _act(run, kepala, at(9, 10, 9, 10))
    return MonitoringWorld(uji, timur, induk, sop, sop_timur, kepala, staf, plh, kepala_timur, staf_timur, kadis,
                           made)
