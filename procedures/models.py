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
from django.utils.translation import gettext_lazy as _

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

    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, related_name="positions", verbose_name=_("office")
    )
    name = models.CharField(_("name"), max_length=255)

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
    tanggal_pembuatan = models.DateField(_("date made"), null=True, blank=True)
    tanggal_revisi = models.DateField(_("date revised"), null=True, blank=True)
    tanggal_efektif = models.DateField(_("effective date"), null=True, blank=True)
    disahkan_jabatan = models.CharField(_("approved by (position)"), max_length=255, blank=True)
    disahkan_nama = models.CharField(_("approved by (name)"), max_length=255, blank=True)
    disahkan_pangkat = models.CharField(_("approved by (rank)"), max_length=255, blank=True)
    disahkan_nip = models.CharField(_("approved by (NIP/NRP)"), max_length=64, blank=True)
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
    total_waktu = models.CharField(_("total time computed"), max_length=100, blank=True)
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
