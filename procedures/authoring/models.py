"""The tables of SOP authoring: drafts written in the browser and their audit trail.

A draft holds the content of an SOP file as a dict (``data``: the keys of docs/sop-format.md), so
that the editor, the Word import and the file format share one structure. Nothing a draft holds
affects runs: runs point at revisions, and a revision is made from a draft only when its signer
approves it (procedures.authoring.drafts.draft_approve), through the library's import.

These models belong to the ``procedures`` app (procedures.models imports them).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from procedures.audit import AppendOnly


class SopDraft(ConcurrentTransitionMixin, models.Model):
    """An SOP being written: draft → submitted → approved, or returned to its editors."""

    class Status(models.TextChoices):
        DRAFT = "draf", _("draft")
        SUBMITTED = "diajukan", _("submitted for approval")
        APPROVED = "disahkan", _("approved")
        RETURNED = "dikembalikan", _("returned")

    class Origin(models.TextChoices):
        NEW = "baru", _("new SOP")
        REVISION = "ubah", _("next revision")
        COPY = "salin", _("copy of an SOP")
        WORD = "word", _("imported from Word")

    # The states in which the office's editors may change it.
    EDITABLE = (Status.DRAFT, Status.RETURNED)

    office = models.ForeignKey("procedures.Office", on_delete=models.PROTECT, related_name="drafts",
                               verbose_name=_("office"))
    origin = models.CharField(_("made as"), max_length=5, choices=Origin.choices, default=Origin.NEW)
    # "Ubah": the SOP whose next revision this is (its kode is fixed); "Salin": the revision copied.
    sop = models.ForeignKey("procedures.Sop", on_delete=models.PROTECT, null=True, blank=True,
                            related_name="drafts", verbose_name=_("SOP"))
    based_on = models.ForeignKey("procedures.SopRevision", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("based on revision"))
    data = models.JSONField(_("content"), default=dict, blank=True)
    # What the Word import could not read, by key path: [{"path": …, "message": …}].
    flags = models.JSONField(_("import flags"), default=list, blank=True)
    status = FSMField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT, protected=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("author"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("saved at"), default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("saved by"))
    # Pengesahan: the position that signs, who submitted, who signed or returned it and when.
    signer_position = models.ForeignKey("procedures.Position", on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="+", verbose_name=_("to be approved by"))
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("submitted by"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("approved or returned by"))
    decided_at = models.DateTimeField(_("approved or returned at"), null=True, blank=True)
    return_reason = models.TextField(_("reason for returning"), blank=True)
    revision = models.ForeignKey("procedures.SopRevision", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("revision made"))

    class Meta:
        verbose_name = _("SOP draft")
        verbose_name_plural = _("SOP drafts")
        ordering = ["-updated_at", "-pk"]
        permissions = [("edit_sop_draft", _("Can write SOPs in the editor (for the offices one belongs to)"))]
        indexes = [
            # The drafts of an office by state (the editors' list), and a signer's submitted drafts.
            models.Index(fields=["office", "status"], name="draft_office_status"),
            models.Index(fields=["signer_position", "status"], name="draft_signer_status"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        nama = self.data.get("nama") if isinstance(self.data, dict) else None
        return (nama if isinstance(nama, str) and nama.strip() else "") or str(_("(untitled SOP)"))

    @property
    def kode(self) -> str:
        kode = self.data.get("kode") if isinstance(self.data, dict) else None
        return kode if isinstance(kode, str) else ""

    @property
    def editable(self) -> bool:
        return self.status in self.EDITABLE

    # Transitions: called by procedures.authoring.drafts only, which checks who may and why not.

    @transition(field=status, source=[Status.DRAFT, Status.RETURNED], target=Status.SUBMITTED)
    def submit(self, *, user, signer_position) -> None:
        self.submitted_by, self.submitted_at = user, timezone.now()
        self.signer_position = signer_position
        self.return_reason = ""

    @transition(field=status, source=Status.SUBMITTED, target=Status.APPROVED)
    def approve(self, *, user, revision) -> None:
        self.decided_by, self.decided_at, self.revision = user, timezone.now(), revision

    @transition(field=status, source=Status.SUBMITTED, target=Status.RETURNED)
    def send_back(self, *, user, reason: str) -> None:
        self.decided_by, self.decided_at, self.return_reason = user, timezone.now(), reason


class DraftEvent(AppendOnly):
    """One thing done to a draft (made, saved, submitted, approved, returned), recorded for good."""

    draft = models.ForeignKey(SopDraft, on_delete=models.PROTECT, related_name="events", verbose_name=_("draft"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("by"))
    acting = models.ForeignKey("procedures.ActingAssignment", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+", verbose_name=_("as acting official"))
    acting_title = models.CharField(_("acting as"), max_length=300, blank=True)
    transition = models.CharField(_("transition"), max_length=30)
    source = models.CharField(_("from"), max_length=12, blank=True)
    target = models.CharField(_("to"), max_length=12)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    LABELS = {
        "create": _("created the draft"),
        "save": _("saved"),
        "submit": _("submitted for approval"),
        "approve": _("approved (signed)"),
        "return": _("returned"),
    }

    class Meta:
        verbose_name = _("draft event")
        verbose_name_plural = _("draft events")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.transition} {self.source}→{self.target}"

    @property
    def label(self) -> str:
        return self.LABELS.get(self.transition, self.transition)
