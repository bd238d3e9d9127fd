"""Models of sopflow.

Two sets of tables, kept apart as in Wagtail's moderation workflow:

* the organisation (offices, positions, working calendar) and the SOP library (an SOP, its
  revisions, their role columns, steps and kelengkapan items) — what a sheet *says*;
* runs of an SOP and their tasks and events — what people *did* (see the engine module).

A run points at the SOP revision it started on; revisions are never changed after import.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from procedures.audit import AppendOnly
from procedures.durations import normal_total

# ---------------------------------------------------------------------------------------------
# Organisation
# ---------------------------------------------------------------------------------------------


class Office(models.Model):
    """An office (instansi) that owns and runs SOPs."""

    class TimeZone(models.TextChoices):
        WIB = "Asia/Jakarta", _("WIB (Asia/Jakarta, UTC+7)")
        WITA = "Asia/Makassar", _("WITA (Asia/Makassar, UTC+8)")
        WIT = "Asia/Jayapura", _("WIT (Asia/Jayapura, UTC+9)")

    # Short names printed after times, e.g. "14.30 WITA".
    ZONE_ABBREVIATIONS = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}

    name = models.CharField(_("name"), max_length=255)
    time_zone = models.CharField(
        _("time zone"), max_length=32, choices=TimeZone.choices, default=TimeZone.WIB
    )
    # Optional: a Dinas above its UPT, a Polres above its Satbinmas. Only the Plt/Plh rule reads it
    # (a user of a superior office may act for a position here) and an admin of the superior
    # office administers the offices below it (procedures.staffing).
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
        verbose_name=_("superior office"),
        help_text=_("Optional. Users of the superior office may be named Plt/Plh here, and its admins manage this office."),
    )
    # Printed in the kop box of the office's sheets; stored only as procedures.logos re-encoded it.
    logo = models.FileField(
        _("logo"), upload_to="logos/", blank=True,
        help_text=_("PNG, JPEG or SVG, printed in the letterhead box of the office's SOP sheets."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("office")
        verbose_name_plural = _("offices")
        ordering = ["name"]
        constraints = [
            # SOP files name their office by text; two offices differing only in case would make
            # that name ambiguous.
            models.UniqueConstraint(Lower("name"), name="office_name_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def zoneinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def zone_abbreviation(self) -> str:
        return self.ZONE_ABBREVIATIONS.get(self.time_zone, self.time_zone)


class Position(models.Model):
    """A position (jabatan) of an office; the role columns of its SOPs map to positions."""

    class Level(models.IntegerChoices):
        LEADER = 1, _("Head of office (Kepala, Kadis, Kasat)")
        BUREAU = 2, _("Head of division or secretary (Kabid, Sekretaris, KBO)")
        SECTION = 3, _("Head of section or unit (Kasi, Kasubag, Kanit)")
        STAFF = 4, _("Staff (Staf, Petugas, Banit, Tim)")

    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, related_name="positions", verbose_name=_("office")
    )
    name = models.CharField(_("name"), max_length=255)
    # Who may reassign a task and who approves: a position of a lower level number in the same
    # SOP is a head of the positions below it. Guessed from the title on import, editable.
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices, default=Level.STAFF)
    holders = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="positions", verbose_name=_("holders")
    )
    # The revision whose import created this position (None: made by hand, or before this was
    # recorded): the readiness page tells a position new with an SOP from one the office had.
    introduced_by = models.ForeignKey(
        "SopRevision", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False,
        verbose_name=_("created by importing"),
    )

    class Meta:
        verbose_name = _("position")
        verbose_name_plural = _("positions")
        ordering = ["office__name", "name"]
        constraints = [
            # "Kasat Pol PP" in two SOPs of one office is one position, whatever the case.
            models.UniqueConstraint("office", Lower("name"), name="position_name_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.name


class WorkingHours(models.Model):
    """The working hours of one weekday of an office; a weekday without a row is a day off."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    # Mon–Thu 07:30–16:00, Fri 07:30–16:30: the usual hours of a government office.
    DEFAULTS = {
        0: (dt.time(7, 30), dt.time(16, 0)),
        1: (dt.time(7, 30), dt.time(16, 0)),
        2: (dt.time(7, 30), dt.time(16, 0)),
        3: (dt.time(7, 30), dt.time(16, 0)),
        4: (dt.time(7, 30), dt.time(16, 30)),
    }

    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, related_name="working_hours", verbose_name=_("office")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"))

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["office", "weekday"]
        constraints = [
            models.UniqueConstraint(fields=["office", "weekday"], name="working_hours_one_per_day"),
            models.CheckConstraint(condition=models.Q(start__lt=models.F("end")), name="working_hours_start_before_end"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"


class Holiday(models.Model):
    """A day off added by an admin (cuti bersama, a local holiday), for one office or for all.

    National public holidays come from the ``holidays`` package and need no row.
    """

    office = models.ForeignKey(
        Office,
        on_delete=models.CASCADE,
        related_name="holidays",
        null=True,
        blank=True,
        verbose_name=_("office"),
        help_text=_("Leave empty for a day off in every office."),
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=255)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["office", "date"], name="holiday_once_per_office"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"


class Profile(models.Model):
    """What an Indonesian civil servant's account needs beyond Django's user: NIP, pangkat, office.

    The name stays on the user (``first_name``, the whole name with its titles; ``last_name`` may
    stay empty) and the jabatan is the position held; a signed sheet takes all three from here.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile", verbose_name=_("user")
    )
    nip = models.CharField(
        _("NIP/NRP"), max_length=18, blank=True,
        help_text=_("18 digits for a civil servant (NIP), 8 for a police officer (NRP); empty for others."),
    )
    pangkat = models.CharField(_("rank and grade (pangkat/golongan)"), max_length=100, blank=True)
    office = models.ForeignKey(
        Office, on_delete=models.SET_NULL, null=True, blank=True, related_name="members",
        verbose_name=_("office"),
    )

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")
        constraints = [
            # One person, one NIP: the user import matches people by it.
            models.UniqueConstraint(fields=["nip"], condition=~models.Q(nip=""), name="profile_nip_unique"),
        ]

    def __str__(self) -> str:
        return self.nip or str(self.user)


# ---------------------------------------------------------------------------------------------
# SOP library
# ---------------------------------------------------------------------------------------------


class Sop(models.Model):
    """An SOP of an office, identified by its ``kode``; its content lives in revisions."""

    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="sops", verbose_name=_("office")
    )
    kode = models.SlugField(_("code"), max_length=100)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("SOP")
        verbose_name_plural = _("SOPs")
        ordering = ["office__name", "kode"]
        constraints = [
            models.UniqueConstraint(fields=["office", "kode"], name="sop_kode_unique_per_office"),
        ]

    def __str__(self) -> str:
        latest = self.latest_revision
        return f"{latest.nama} ({self.kode})" if latest else self.kode

    @property
    def latest_revision(self) -> SopRevision | None:
        # Uses the prefetch cache when a selector filled it, so lists stay at constant queries.
        cached = getattr(self, "_prefetched_objects_cache", {}).get("revisions")
        if cached is not None:
            return max(cached, key=lambda revision: revision.number, default=None)
        return self.revisions.order_by("-number").first()


class SopRevision(models.Model):
    """One imported version of an SOP sheet: the identity block and its steps. Never edited."""

    class DatePrecision(models.TextChoices):
        # A sheet may give a date as a day or only as a month and year ("September 2018"); a
        # month is stored as its first day with MONTH, printed and exported as the sheet gave it.
        DAY = "day", _("day")
        MONTH = "month", _("month and year")

    sop = models.ForeignKey(
        Sop, on_delete=models.CASCADE, related_name="revisions", verbose_name=_("SOP")
    )
    number = models.PositiveIntegerField(
        _("revision"), help_text=_("Counts the imports with changed content: 1, 2, 3 …")
    )

    # The identity block, as printed on the sheet.
    nama = models.CharField(_("SOP name"), max_length=500)
    nomor = models.CharField(_("SOP number"), max_length=255, blank=True)
    revisi = models.PositiveIntegerField(_("printed revision"), default=0)
    kop = models.JSONField(_("letterhead lines"), default=list, blank=True)
    tanggal_pembuatan = models.DateField(_("date made"), null=True, blank=True)
    tanggal_pembuatan_precision = models.CharField(
        _("date made: precision"), max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY)
    tanggal_revisi = models.DateField(_("date revised"), null=True, blank=True)
    tanggal_revisi_precision = models.CharField(
        _("date revised: precision"), max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY)
    tanggal_efektif = models.DateField(_("effective date"), null=True, blank=True)
    tanggal_efektif_precision = models.CharField(
        _("effective date: precision"), max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY)
    disahkan_jabatan = models.CharField(_("approved by (position)"), max_length=255, blank=True)
    disahkan_nama = models.CharField(_("approved by (name)"), max_length=255, blank=True)
    disahkan_pangkat = models.CharField(_("approved by (rank)"), max_length=255, blank=True)
    disahkan_nip = models.CharField(_("approved by (NIP/NRP)"), max_length=64, blank=True)
    ditandatangani_elektronik = models.BooleanField(_("signed electronically"), default=False)
    # Each step is an activity of its own; a run does one of them (the 002 sheet's A, B, C).
    kegiatan_terpisah = models.BooleanField(_("independent activities"), default=False)
    # How the file was made from its source; never printed in the sheet's Keterangan.
    catatan_transkripsi = models.JSONField(_("transcription notes"), default=list, blank=True)
    # The six list sections, each a list of strings in sheet order.
    dasar_hukum = models.JSONField(_("legal basis"), default=list, blank=True)
    kualifikasi_pelaksana = models.JSONField(_("qualifications"), default=list, blank=True)
    keterkaitan = models.JSONField(_("related SOPs"), default=list, blank=True)
    peralatan = models.JSONField(_("equipment"), default=list, blank=True)
    peringatan = models.JSONField(_("warnings"), default=list, blank=True)
    pencatatan = models.JSONField(_("records"), default=list, blank=True)
    jumlah_waktu = models.CharField(_("total time as printed"), max_length=100, blank=True)
    zona_waktu = models.CharField(_("time zone in the file"), max_length=32, blank=True)

    # What sopflow computed and where the file came from.
    # Up to some 110 characters: a range of two sums of 200 steps of a year each (the file's bounds).
    total_waktu = models.CharField(_("total time computed"), max_length=255, blank=True)
    content_hash = models.CharField(
        _("content hash"),
        max_length=64,
        help_text=_("SHA-256 of the normalised file: the same content gives the same hash."),
    )
    source_name = models.CharField(_("file name"), max_length=255, blank=True)
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("imported by"),
    )

    class Meta:
        verbose_name = _("SOP revision")
        verbose_name_plural = _("SOP revisions")
        ordering = ["sop", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["sop", "number"], name="revision_number_unique"),
        ]

    def __str__(self) -> str:
        return _("%(name)s, revision %(number)s") % {"name": self.nama, "number": self.number}

    @property
    def printed_total(self) -> str:
        """The Jumlah Waktu a sheet prints: the sheet's own, else the computed sum (labelled so where
        it is printed: flowchart.content.total_note), none for independent activities; written the
        way sums are (75 menit as 1 jam 15 menit), never carrying jam into hari (durations.normal_total)."""
        if self.jumlah_waktu:
            return normal_total(self.jumlah_waktu)
        return "" if self.kegiatan_terpisah else self.total_waktu

    def printed_date(self, key: str) -> str:
        """A ``tanggal_*`` as the sheet prints it: "3 September 2019", "September 2018", or ""."""
        from procedures.sopfile import SheetDate

        value = getattr(self, key)
        return SheetDate(value, getattr(self, f"{key}_precision")).printed() if value else ""

    @property
    def printed_tanggal_pembuatan(self) -> str:
        return self.printed_date("tanggal_pembuatan")

    @property
    def printed_tanggal_revisi(self) -> str:
        return self.printed_date("tanggal_revisi")

    @property
    def printed_tanggal_efektif(self) -> str:
        return self.printed_date("tanggal_efektif")


class SopColumn(models.Model):
    """A role column (pelaksana) of a revision's sheet, in sheet order, mapped to a position."""

    revision = models.ForeignKey(
        SopRevision, on_delete=models.CASCADE, related_name="columns", verbose_name=_("revision")
    )
    order = models.PositiveSmallIntegerField(_("order"))
    label = models.CharField(_("label as written"), max_length=255)
    position = models.ForeignKey(
        Position, on_delete=models.PROTECT, related_name="columns", verbose_name=_("position")
    )

    class Meta:
        verbose_name = _("role column")
        verbose_name_plural = _("role columns")
        ordering = ["revision", "order"]
        constraints = [
            models.UniqueConstraint(fields=["revision", "order"], name="column_order_unique"),
            models.UniqueConstraint(fields=["revision", "position"], name="column_position_once"),
        ]

    def __str__(self) -> str:
        return self.label


class Step(models.Model):
    """A step (langkah) of a revision."""

    class Symbol(models.TextChoices):
        START = "mulai", _("start")
        PROCESS = "proses", _("process")
        DECISION = "keputusan", _("decision")
        END = "selesai", _("end")

    class Unit(models.TextChoices):
        MINUTE = "menit", _("minutes")
        HOUR = "jam", _("hours")
        DAY = "hari", _("working days")
        WEEK = "minggu", _("weeks")
        MONTH = "bulan", _("months")

    revision = models.ForeignKey(
        SopRevision, on_delete=models.CASCADE, related_name="steps", verbose_name=_("revision")
    )
    nomor = models.PositiveSmallIntegerField(_("number"))
    kegiatan = models.TextField(_("activity"))
    column = models.ForeignKey(
        SopColumn, on_delete=models.CASCADE, related_name="steps", verbose_name=_("actor")
    )
    simbol = models.CharField(_("symbol"), max_length=10, choices=Symbol.choices)
    waktu = models.CharField(_("time standard as printed"), max_length=100)
    waktu_min = models.PositiveIntegerField(_("time standard, lower"))
    waktu_max = models.PositiveIntegerField(_("time standard, upper"))
    waktu_unit = models.CharField(_("time standard, unit"), max_length=10, choices=Unit.choices)
    output = models.TextField(_("output"), blank=True)
    keterangan = models.TextField(_("notes"), blank=True)
    # Corrections of the source and what was inferred: for admins, never on task pages or in the
    # printed sheet's Keterangan.
    catatan_transkripsi = models.TextField(_("transcription note"), blank=True)
    # The step's printed label when it is not its number (A, B, C); empty: the number.
    label = models.CharField(_("printed label"), max_length=20, blank=True)
    # Decisions only: the question in the sheet's words and the words of its answers (empty:
    # the pages derive a neutral question and say plain "Ya" / "Tidak").
    pertanyaan = models.CharField(_("question"), max_length=500, blank=True)
    label_ya = models.CharField(_("words of the Yes answer"), max_length=100, blank=True)
    label_tidak = models.CharField(_("words of the No answer"), max_length=100, blank=True)
    # Decisions only. A null target of a decision step means the run ends there ("selesai").
    ya_step = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name=_("next step on Yes"),
    )
    tidak_step = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name=_("next step on No"),
    )

    class Meta:
        verbose_name = _("step")
        verbose_name_plural = _("steps")
        ordering = ["revision", "nomor"]
        constraints = [
            models.UniqueConstraint(fields=["revision", "nomor"], name="step_nomor_unique"),
            models.CheckConstraint(condition=models.Q(waktu_min__gte=1), name="step_waktu_positive"),
            models.CheckConstraint(
                condition=models.Q(waktu_min__lte=models.F("waktu_max")), name="step_waktu_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.nomor}. {self.kegiatan[:80]}"

    @property
    def is_decision(self) -> bool:
        return self.simbol == self.Symbol.DECISION


class KelengkapanItem(models.Model):
    """One required input of a step, its own row so that a task can tick it."""

    step = models.ForeignKey(
        Step, on_delete=models.CASCADE, related_name="kelengkapan", verbose_name=_("step")
    )
    order = models.PositiveSmallIntegerField(_("order"))
    text = models.TextField(_("text"))

    class Meta:
        verbose_name = _("required input")
        verbose_name_plural = _("required inputs")
        ordering = ["step", "order"]
        constraints = [
            models.UniqueConstraint(fields=["step", "order"], name="kelengkapan_order_unique"),
        ]

    def __str__(self) -> str:
        return self.text


def guess_level(name: str) -> int:
    """Guess a position's level from its title ("Kasat Pol PP" → head of office)."""
    first = name.split()[0].casefold() if name.split() else ""
    if first in {"kepala", "kadis", "kasat", "kapolres", "kaban", "kakan", "camat", "lurah", "kades", "walikota",
                 "bupati"}:
        return Position.Level.LEADER
    if first in {"sekretaris", "kabid", "kabag", "kbo", "wakil", "wakasat", "sekdis"}:
        return Position.Level.BUREAU
    if first in {"kasi", "kasie", "kasubag", "kasubbag", "kasubid", "kasubbid", "kanit", "kaur", "kasubsi"}:
        return Position.Level.SECTION
    return Position.Level.STAFF


class ActingAssignment(models.Model):
    """A Plt/Plh: someone who may act for a position during a date range."""

    class Kind(models.TextChoices):
        PLT = "plt", _("Plt (pelaksana tugas)")
        PLH = "plh", _("Plh (pelaksana harian)")

    position = models.ForeignKey(
        Position, on_delete=models.CASCADE, related_name="acting", verbose_name=_("position")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="acting",
        verbose_name=_("acting official"),
    )
    kind = models.CharField(_("kind"), max_length=3, choices=Kind.choices, default=Kind.PLH)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    appointed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("appointed by"),
    )
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("acting official")
        verbose_name_plural = _("acting officials")
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(condition=models.Q(starts_on__lte=models.F("ends_on")), name="acting_dates_in_order"),
        ]
        indexes = [
            # "Who acts for this position today?" on every permission check.
            models.Index(fields=["position", "ends_on", "starts_on"], name="acting_position_dates"),
            models.Index(fields=["user", "ends_on"], name="acting_user_dates"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display().split()[0]} {self.position} ({self.user})"

    def title(self) -> str:
        """As officials write it above their name: "Plh. Kasat Pol PP".

        The official acts for the position, not on behalf of its holders, so the title names the
        position alone and is bounded whatever the position's holders: a kind and a position name
        fit ``Event.acting_title`` (its events freeze it, see ``procedures.engine``).
        """
        return f"{self.get_kind_display().split()[0]}. {self.position.name}"


# ---------------------------------------------------------------------------------------------
# Runs (what people did); every state change goes through procedures.engine
# ---------------------------------------------------------------------------------------------


class Run(ConcurrentTransitionMixin, models.Model):
    """A run (pelaksanaan) of an SOP revision."""

    class Status(models.TextChoices):
        RUNNING = "berjalan", _("running")
        FINISHED = "selesai", _("finished")
        CANCELLED = "dibatalkan", _("cancelled")

    revision = models.ForeignKey(
        SopRevision, on_delete=models.PROTECT, related_name="runs", verbose_name=_("SOP revision")
    )
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="runs", verbose_name=_("office"))
    perihal = models.CharField(_("subject"), max_length=255)
    status = FSMField(_("status"), max_length=12, choices=Status.choices, default=Status.RUNNING, protected=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("started by")
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)

    class Meta:
        verbose_name = _("run")
        verbose_name_plural = _("runs")
        ordering = ["-started_at"]
        indexes = [
            # The run list of an office, newest first, filtered by status.
            models.Index(fields=["office", "status", "-started_at"], name="run_office_status"),
            models.Index(fields=["office", "-started_at"], name="run_office_started"),
        ]
        permissions = [
            # Monev: see the monitoring figures of one's office without being its head.
            ("view_monitoring", _("Can see the monitoring (monev) of their office")),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.perihal}"

    @transition(field=status, source=Status.RUNNING, target=Status.FINISHED)
    def finish(self) -> None:
        self.ended_at = timezone.now()

    @transition(field=status, source=Status.RUNNING, target=Status.CANCELLED,
                permission=lambda run, user: run.may_cancel(user))
    def cancel(self, *, reason: str) -> None:
        self.ended_at = timezone.now()
        self.cancel_reason = reason

    def may_cancel(self, user) -> bool:
        from procedures import permissions

        return permissions.may_cancel_run(self, user)


class Task(ConcurrentTransitionMixin, models.Model):
    """A reached step of a run: waiting → in progress → done (or sent back, or cancelled)."""

    class Status(models.TextChoices):
        WAITING = "menunggu", _("waiting")
        IN_PROGRESS = "dikerjakan", _("in progress")
        DONE = "selesai", _("done")
        SENT_BACK = "dikembalikan", _("sent back")
        CANCELLED = "dibatalkan", _("cancelled")

    OPEN = (Status.WAITING, Status.IN_PROGRESS)

    class Decision(models.TextChoices):
        YES = "ya", _("Yes")
        NO = "tidak", _("No")

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("run"))
    step = models.ForeignKey(Step, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("step"))
    # Copied from step.column.position: the inbox filters on it without three joins.
    position = models.ForeignKey(Position, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("position"))
    status = FSMField(_("status"), max_length=12, choices=Status.choices, default=Status.WAITING, protected=True)
    # How many times the run has reached this step (a Tidak sending it back counts up).
    visit = models.PositiveSmallIntegerField(_("visit"), default=1)
    previous = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("previous task"),
    )
    created_at = models.DateTimeField(_("reached at"), default=timezone.now)
    due_at = models.DateTimeField(_("due at"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="tasks",
        verbose_name=_("claimed by"),
    )
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("completed by"),
    )
    acting = models.ForeignKey(
        ActingAssignment, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("as acting official"),
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    decision = models.CharField(_("decision"), max_length=5, choices=Decision.choices, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    # Why the run came back here (the reason of the Tidak that sent it back).
    return_reason = models.TextField(_("sent back because"), blank=True)
    output_text = models.TextField(_("output"), blank=True)
    note = models.TextField(_("note"), blank=True)
    # Monev: stored by the engine when the task is done or answered (procedures.monitoring.recording),
    # so that monitoring never replays a calendar per row. Minutes of working time for menit/jam/hari
    # standards, of calendar time for minggu/bulan; null while the task is open or was cancelled.
    worked_minutes = models.PositiveIntegerField(_("time taken (minutes)"), null=True, blank=True, editable=False)
    standard_minutes = models.PositiveIntegerField(_("time standard (minutes)"), null=True, blank=True,
                                                   editable=False)
    within_standard = models.BooleanField(_("within the time standard"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["created_at", "pk"]
        constraints = [
            # A step has at most one open task per run: two Ya clicks cannot open it twice.
            models.UniqueConstraint(
                fields=["run", "step"],
                condition=models.Q(status__in=["menunggu", "dikerjakan"]),
                name="task_one_open_per_step",
            ),
        ]
        indexes = [
            # The inbox: open tasks of my positions, by due time.
            models.Index(fields=["position", "status", "due_at"], name="task_position_open_due"),
            models.Index(fields=["assignee", "status", "due_at"], name="task_assignee_open_due"),
            # The overdue dashboard and reminders: open tasks by due time.
            models.Index(fields=["status", "due_at"], name="task_status_due"),
            # Open tasks of a run by due time, only the open ones (about 1 % of the table): the run
            # list's "overdue" flag and its open tasks, and the overdue board from a head's runs.
            # Without it the flag hashes every open task of every office (10 ms at 100,000 runs).
            models.Index(fields=["run", "due_at"], condition=models.Q(status__in=["menunggu", "dikerjakan"]),
                         name="task_open_run_due"),
            # Monitoring: the done tasks of a period, with their stored figures (procedures.monitoring).
            models.Index(fields=["completed_at", "run"], condition=models.Q(within_standard__isnull=False),
                         name="task_figures_done"),
        ]

    def __str__(self) -> str:
        return f"{self.run} — {self.step}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    def is_overdue(self, now=None) -> bool:
        return self.is_open and self.due_at < (now or timezone.now())

    # The transitions. Rules that need other rows (who holds what, who did the judged step) are
    # in procedures.permissions; procedures.engine checks them first to give a reason.

    @transition(field=status, source=Status.WAITING, target=Status.IN_PROGRESS,
                permission=lambda task, user: task.may_act(user))
    def claim(self, *, user, acting) -> None:
        self.assignee, self.acting, self.claimed_at = user, acting, timezone.now()

    @transition(field=status, source=Status.IN_PROGRESS, target=Status.WAITING)
    def release(self) -> None:
        self.assignee, self.acting, self.claimed_at = None, None, None

    @transition(field=status, source=[Status.WAITING, Status.IN_PROGRESS], target=Status.IN_PROGRESS)
    def reassign(self, *, to_user, acting) -> None:
        self.assignee, self.acting, self.claimed_at = to_user, acting, timezone.now()

    @transition(field=status, source=Status.IN_PROGRESS, target=Status.DONE,
                permission=lambda task, user: task.assignee_id == user.pk and task.may_act(user),
                conditions=[lambda task: task.kelengkapan_complete(), lambda task: task.output_given()])
    def complete(self, *, user) -> None:
        self.completed_by, self.completed_at = user, timezone.now()

    @transition(field=status, source=Status.IN_PROGRESS, target=RETURN_VALUE(Status.DONE, Status.SENT_BACK),
                permission=lambda task, user: task.assignee_id == user.pk and task.may_act(user),
                conditions=[lambda task: task.step.is_decision, lambda task: task.decision_valid()])
    def decide(self, *, user) -> str:
        self.completed_by, self.completed_at = user, timezone.now()
        target = self.step.ya_step if self.decision == self.Decision.YES else self.step.tidak_step
        going_back = target is not None and target.nomor <= self.step.nomor
        return self.Status.SENT_BACK if going_back else self.Status.DONE

    @transition(field=status, source=[Status.WAITING, Status.IN_PROGRESS], target=Status.SENT_BACK,
                permission=lambda task, user: task.assignee_id in (None, user.pk) and task.may_act(user),
                conditions=[lambda task: task.previous_id is not None, lambda task: bool(task.reason.strip())])
    def send_back(self, *, user) -> None:
        """Return the work to the step before, outside the sheet's drawn flow (engine.task_return)."""
        self.completed_by, self.completed_at = user, timezone.now()

    @transition(field=status, source=[Status.WAITING, Status.IN_PROGRESS], target=Status.CANCELLED)
    def cancel(self) -> None:
        self.completed_at = timezone.now()

    # Conditions. The engine sets the ticks, output and decision before calling a transition.

    def may_act(self, user) -> bool:
        from procedures import permissions

        return permissions.act_refusal(self, user) is None

    def kelengkapan_complete(self) -> bool:
        if self.step.is_decision and self.decision == self.Decision.NO:
            return True  # nothing needs to be at hand to say no
        required = {item.pk for item in self.step.kelengkapan.all()}
        if not required:
            return True
        ticked = getattr(self, "_ticked", None)  # set by the engine while it works on the task
        if ticked is None:
            ticked = set(self.checks.values_list("item_id", flat=True))
        return required <= set(ticked)

    def output_given(self) -> bool:
        if not self.step.output or self.step.is_decision:
            return True
        return bool(self.output_text.strip()) or bool(getattr(self, "_has_files", False))

    def decision_valid(self) -> bool:
        if self.decision == self.Decision.YES:
            return self.kelengkapan_complete()
        return self.decision == self.Decision.NO and bool(self.reason.strip())


class TaskCheck(models.Model):
    """A kelengkapan item ticked on a task."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="checks", verbose_name=_("task"))
    item = models.ForeignKey(KelengkapanItem, on_delete=models.PROTECT, related_name="+", verbose_name=_("item"))

    class Meta:
        verbose_name = _("ticked item")
        verbose_name_plural = _("ticked items")
        constraints = [models.UniqueConstraint(fields=["task", "item"], name="task_check_once")]


# File systems allow 255 bytes in a name, and a non-ASCII character takes 2-4 of them: a stored
# name keeps at most this many (room left for the storage's "_abc1234" against a clash).
STORED_NAME_BYTES = 120


def task_file_path(instance: TaskFile, filename: str) -> str:
    """Where an output file is stored: its name cut to STORED_NAME_BYTES of UTF-8, the extension
    kept (``TaskFile.name`` keeps the name as uploaded, for display and download)."""
    stem, dot, extension = filename.rpartition(".")
    if not dot or len(extension.encode()) > 16:
        stem, dot, extension = filename, "", ""
    room = STORED_NAME_BYTES - len((dot + extension).encode())
    stem = stem.encode()[:room].decode("utf-8", "ignore")
    return f"runs/{instance.task.run_id}/{instance.task_id}/{stem}{dot}{extension}"


class TaskFile(models.Model):
    """A file uploaded as (part of) a task's output."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="files", verbose_name=_("task"))
    file = models.FileField(_("file"), upload_to=task_file_path, max_length=500)
    name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("output file")
        verbose_name_plural = _("output files")
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.name


class Event(AppendOnly):
    """One transition of a run or a task, recorded for good (the audit trail)."""

    run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="events", verbose_name=_("run"))
    task = models.ForeignKey(
        Task, on_delete=models.PROTECT, null=True, blank=True, related_name="events", verbose_name=_("task")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    acting = models.ForeignKey(
        ActingAssignment, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("as acting official"),
    )
    # Frozen at the time: "Plh Kasat Pol PP", so the record reads right even after renames.
    acting_title = models.CharField(_("acting as"), max_length=300, blank=True)
    transition = models.CharField(_("transition"), max_length=30)
    source = models.CharField(_("from"), max_length=12, blank=True)
    target = models.CharField(_("to"), max_length=12)
    reason = models.TextField(_("reason"), blank=True)
    files = models.JSONField(_("files"), default=list, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    LABELS = {
        "start": _("started the run"),
        "reach": _("step reached"),
        "claim": _("claimed"),
        "release": _("released"),
        "reassign": _("reassigned"),
        "complete": _("completed"),
        "decide_ya": _("decided Yes"),
        "decide_tidak": _("decided No"),
        "return": _("sent back to the step before"),
        "finish": _("run finished"),
        "cancel": _("cancelled"),
    }

    # Transitions the sheet draws no line for: a send-back from any step (engine.task_return).
    OFF_SHEET = frozenset({"return"})

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["run", "created_at"], name="event_run_time")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.transition} {self.source}→{self.target}"

    @property
    def label(self) -> str:
        return self.LABELS.get(self.transition, self.transition)

    @property
    def off_sheet(self) -> bool:
        """Whether this step of the run went outside the flow the sheet draws (a send-back)."""
        return self.transition in self.OFF_SHEET


# ---------------------------------------------------------------------------------------------
# Monev: the regulation's monitoring form, prefilled from the figures and signed by a head
# (procedures.monitoring.sheets changes these; see docs/monitoring.md)
# ---------------------------------------------------------------------------------------------


class MonitoringSheet(models.Model):
    """A Formulir Monitoring Pelaksanaan SOP of an office for a period: a draft until its head signs it.

    A signed sheet is never changed; a new sheet may supersede it, with a reason.
    """

    class Status(models.TextChoices):
        DRAFT = "draf", _("draft")
        SIGNED = "ditandatangani", _("signed")

    class Kind(models.TextChoices):
        MONITORING = "monitoring", _("Formulir Monitoring Pelaksanaan SOP")
        EVALUATION = "evaluasi", _("Formulir Evaluasi Penerapan SOP")

    kind = models.CharField(_("form"), max_length=12, choices=Kind.choices, default=Kind.MONITORING)
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="monitoring_sheets",
                               verbose_name=_("office"))
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period until"))
    period_label = models.CharField(_("period"), max_length=100)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("prepared by"))
    created_at = models.DateTimeField(_("prepared at"), default=timezone.now)
    # The signature, frozen as it was signed (a later rename or a new NIP does not change it).
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("signed by"))
    signer_name = models.CharField(_("signer's name"), max_length=300, blank=True)
    signer_jabatan = models.CharField(_("signer's position"), max_length=300, blank=True)
    signer_nip = models.CharField(_("signer's NIP/NRP"), max_length=18, blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    supersedes = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="superseded_by", verbose_name=_("supersedes"))
    supersede_reason = models.TextField(_("why it supersedes the earlier sheet"), blank=True)

    class Meta:
        verbose_name = _("monitoring sheet")
        verbose_name_plural = _("monitoring sheets")
        ordering = ["-period_start", "office__name", "-created_at"]
        constraints = [
            # One draft per office and period: preparing again opens the draft there is.
            models.UniqueConstraint(fields=["office", "kind", "period_start", "period_end"],
                                    condition=models.Q(status="draf"), name="monitoring_sheet_one_draft"),
        ]

    def __str__(self) -> str:
        return f"{self.office} — {self.period_label}"

    @property
    def is_signed(self) -> bool:
        return self.status == self.Status.SIGNED


class MonitoringSheetRow(models.Model):
    """One SOP of a monitoring sheet: the assessment sopflow proposes, the head's, tindakan and catatan."""

    class Assessment(models.TextChoices):
        GOOD = "baik", _("runs well")
        NOT_GOOD = "tidak_baik", _("does not run well")

    sheet = models.ForeignKey(MonitoringSheet, on_delete=models.CASCADE, related_name="rows",
                              verbose_name=_("monitoring sheet"))
    order = models.PositiveSmallIntegerField(_("order"))
    sop = models.ForeignKey(Sop, on_delete=models.PROTECT, related_name="+", verbose_name=_("SOP"))
    prosedur = models.CharField(_("procedure"), max_length=500)
    proposed = models.CharField(_("proposed assessment"), max_length=10, choices=Assessment.choices, blank=True)
    assessment = models.CharField(_("assessment"), max_length=10, choices=Assessment.choices, blank=True)
    tindakan = models.TextField(_("action to take"), blank=True)
    catatan = models.TextField(_("notes"), blank=True)
    # The figures behind the proposal, as they were when the sheet was prepared.
    figures = models.JSONField(_("figures"), default=dict, blank=True)
    # The evaluation form only: per criterion (procedures.monitoring.sheets.CRITERIA) the answer
    # ("ya"/"tidak"/""), the proposal, the evidence and a note; and whether the SOP needs revising.
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    perlu_revisi = models.BooleanField(_("needs revision"), default=False)
    # A signed evaluation row marked "perlu revisi": the draft of the SOP's next revision made for the
    # office's editors when the sheet was signed (or the open draft there already was).
    revision_draft = models.ForeignKey("procedures.SopDraft", on_delete=models.SET_NULL, null=True, blank=True,
                                       related_name="+", verbose_name=_("revision draft"))

    class Meta:
        verbose_name = _("monitoring sheet row")
        verbose_name_plural = _("monitoring sheet rows")
        ordering = ["sheet", "order"]
        constraints = [models.UniqueConstraint(fields=["sheet", "sop"], name="monitoring_row_sop_once")]


class MonitoringSheetEvent(AppendOnly):
    """What happened to a monitoring sheet (prepared, saved, signed, superseded): append-only."""

    sheet = models.ForeignKey(MonitoringSheet, on_delete=models.PROTECT, related_name="events",
                              verbose_name=_("monitoring sheet"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("by"))
    class Action(models.TextChoices):
        PREPARE = "prepare", _("prepared by")
        SAVE = "save", _("saved by")
        SIGN = "sign", _("signed by")
        SUPERSEDE = "supersede", _("superseded by")

    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("monitoring sheet event")
        verbose_name_plural = _("monitoring sheet events")
        ordering = ["created_at", "pk"]


class MonitoringReminder(models.Model):
    """That the heads of an office were reminded to sign a period's monitoring sheet (once per period)."""

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="+", verbose_name=_("office"))
    period_start = models.DateField(_("period from"))
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        verbose_name = _("monitoring sheet reminder")
        verbose_name_plural = _("monitoring sheet reminders")
        constraints = [
            # send_reminders runs every half hour: each office's heads are reminded once per period.
            models.UniqueConstraint(fields=["office", "period_start"], name="monitoring_reminder_once"),
        ]


# ---------------------------------------------------------------------------------------------
# SOP authoring (drafts written in the browser): their own module, tables of this app
# ---------------------------------------------------------------------------------------------

from procedures.authoring.models import DraftEvent, SopDraft  # noqa: E402,F401
