"""The regulation's two forms, prepared from the figures, confirmed and signed by a head.

The Formulir Monitoring Pelaksanaan SOP (below) and the Formulir Evaluasi Penerapan SOP, whose
rows answer the seven ``CRITERIA`` Ya/Tidak per SOP with the evidence sopflow has (``_evidence``:
share within the standard, send-backs (a decision's and those outside the sheet's flow), stuck and
cancelled runs, positions nobody holds, related SOPs) and a proposal where the evidence supports
one. Signing an evaluation opens, per row marked "perlu revisi", a draft of the SOP's next revision
for the office's SOP editors (``_revision_drafts``; an open one there already is is linked instead).
Both share the draft, sign, lock and supersede rules.


Per SOP of the office, sopflow proposes "berjalan dengan baik" or "tidak berjalan dengan baik" from
the period's figures (``propose``) and keeps the figures beside it; the head of the office confirms
or changes each assessment, writes the tindakan and catatan, and signs: the name, jabatan, NIP and
time are frozen on the sheet, which is then locked. A signed sheet is superseded by a new draft (with
a reason), never changed. Every step writes a ``MonitoringSheetEvent``.

Only a head of the sheet's own office (a holder of a position above staff there, or its Plt/Plh
today) prepares, edits and signs it.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from procedures import permissions
from procedures.authoring import drafts
from procedures.engine import Conflict, InvalidInput, NotAllowed
from procedures.models import (
    MonitoringSheet,
    MonitoringSheetEvent,
    MonitoringSheetRow,
    Office,
    Position,
    Profile,
    Sop,
    SopRevision,
)
from procedures.monitoring.figures import SopRow, monitoring_report
from procedures.monitoring.scope import Filters, Period
from procedures.readiness import sop_readiness

# "Runs well" when at least this share of the steps met the standard and no run is stuck.
GOOD_SHARE = 80.0
TEXT_LIMIT = 2000

# The Formulir Evaluasi Penerapan SOP's criteria (Permenpan RB 35/2012), answered Ya/Tidak per SOP.
CRITERIA = (
    ("kinerja", gettext_lazy("Able to drive better performance")),
    ("dipahami", gettext_lazy("Easy to understand")),
    ("dilaksanakan", gettext_lazy("Easy to carry out")),
    ("peran", gettext_lazy("Everyone can play their own role")),
    ("masalah", gettext_lazy("Able to solve the problems of the process")),
    ("kebutuhan", gettext_lazy("Able to meet the organisation's need to perform better")),
    ("sinergi", gettext_lazy("In synergy with one another")),
)
YES, NO = "ya", "tidak"


def propose(row: SopRow) -> str:
    """The assessment the figures support, or "" when the SOP was not carried out in the period."""
    if not row.tasks_done and not row.started:
        return ""
    if row.stuck or row.within_share is None or row.within_share < GOOD_SHARE:
        return MonitoringSheetRow.Assessment.NOT_GOOD
    return MonitoringSheetRow.Assessment.GOOD


def _evidence(row: SopRow, unstaffed: list[str], related: int) -> dict[str, dict]:
    """Per criterion: what sopflow knows that bears on it, and the answer it supports (or none)."""
    share = "–" if row.within_share is None else f"{row.within_share:.1f}".replace(".", ",")
    done = row.tasks_done > 0
    evidence = {
        "kinerja": (_("%(share)s %% of the steps within the standard") % {"share": share},
                    (YES if row.within_share >= GOOD_SHARE else NO) if done else ""),
        "dipahami": (_("%(backs)s send-back(s) (%(returns)s of them outside the sheet's flow) over %(finished)s "
                       "finished run(s)") % {
            "backs": row.all_send_backs, "returns": row.returns, "finished": row.finished},
            (YES if row.all_send_backs <= max(1, row.finished // 5) else NO) if row.finished else ""),
        "dilaksanakan": (_("%(share)s %% within the standard; %(stuck)s run(s) stuck") % {
            "share": share, "stuck": row.stuck}, (YES if not row.stuck and row.within_share >= GOOD_SHARE else NO)
            if done else ""),
        "peran": (_("positions nobody holds: %(names)s") % {"names": ", ".join(unstaffed)} if unstaffed
                  else _("every position of the SOP has a holder"), NO if unstaffed else YES),
        "masalah": (_("%(cancelled)s run(s) cancelled, %(finished)s finished") % {
            "cancelled": row.cancelled, "finished": row.finished},
            (YES if row.cancelled <= row.finished else NO) if row.started else ""),
        "kebutuhan": (_("%(finished)s of %(started)s run(s) finished in the period") % {
            "finished": row.finished, "started": row.started}, ""),
        "sinergi": (_("%(count)s related SOP(s) named on the sheet") % {"count": related}, ""),
    }
    return {key: {"bukti": text, "usulan": proposal, "jawaban": proposal, "catatan": ""}
            for key, (text, proposal) in evidence.items()}


def head_title(user, office: Office) -> str | None:
    """The jabatan under which ``user`` heads ``office`` ("Kasat Pol PP", "Plh. Kasat Pol PP"), or None.

    A position held outranks one acted for; among several, the highest (lowest level number).
    """
    best: tuple[int, int, str] | None = None
    heads = Position.objects.filter(office=office, level__lt=Position.Level.STAFF).select_related("office")
    for position in heads.order_by("level", "name"):
        allowed, acting = permissions.standing(user, position)
        if allowed:
            candidate = (acting is not None, position.level, acting.title() if acting else position.name)
            if best is None or candidate < best:
                best = candidate
    return best[2] if best else None


def _require_head(user, office: Office) -> str:
    title = head_title(user, office)
    if title is None:
        raise NotAllowed(_("only a head of %(office)s may prepare and sign its monitoring sheet") % {
            "office": office.name})
    return title


def _event(sheet: MonitoringSheet, user, action: str, reason: str = "") -> None:
    MonitoringSheetEvent.objects.create(sheet=sheet, actor=user, action=action, reason=reason)


def _figures(row: SopRow) -> dict:
    return {"started": row.started, "finished": row.finished, "cancelled": row.cancelled, "running": row.running,
            "stuck": row.stuck, "tasks_done": row.tasks_done, "within_share": row.within_share,
            "send_backs": row.send_backs, "returns": row.returns}


@transaction.atomic
def sheet_prepare(*, office: Office, period: Period, user,
                  kind: str = MonitoringSheet.Kind.MONITORING) -> MonitoringSheet:
    """The draft of the office's sheet (monitoring or evaluation) for the period, made from the figures
    if there is none yet."""
    _require_head(user, office)
    if kind not in MonitoringSheet.Kind.values:
        raise InvalidInput(_("choose the monitoring or the evaluation form"), field="kind")
    draft = dict(office=office, kind=kind, period_start=period.start, period_end=period.end,
                 status=MonitoringSheet.Status.DRAFT)
    existing = MonitoringSheet.objects.filter(**draft).first()
    if existing is not None:
        return existing
    report = monitoring_report(Filters(period=period, office_ids=frozenset({office.pk})))
    try:
        with transaction.atomic():
            sheet = MonitoringSheet.objects.create(office=office, kind=kind, period_start=period.start,
                                                   period_end=period.end, period_label=period.label, created_by=user)
    except IntegrityError:  # another head prepared it at the same moment
        return MonitoringSheet.objects.get(**draft)
    if kind == MonitoringSheet.Kind.EVALUATION:
        readiness = {item.sop.pk: item for item in sop_readiness([row.sop_id for row in report.sops])}
        related = {item.sop.pk: len(item.revision.keterkaitan or []) if item.revision else 0
                   for item in readiness.values()}
        rows = [
            MonitoringSheetRow(sheet=sheet, order=index, sop_id=row.sop_id, prosedur=row.name[:500],
                               figures=_figures(row), answers=_evidence(
                                   row, [p.position.name for p in readiness[row.sop_id].missing]
                                   if row.sop_id in readiness else [], related.get(row.sop_id, 0)))
            for index, row in enumerate(report.sops, start=1)
        ]
    else:
        rows = [
            MonitoringSheetRow(sheet=sheet, order=index, sop_id=row.sop_id, prosedur=row.name[:500],
                               proposed=propose(row), assessment=propose(row), figures=_figures(row))
            for index, row in enumerate(report.sops, start=1)
        ]
    MonitoringSheetRow.objects.bulk_create(rows)
    _event(sheet, user, "prepare")
    return sheet


def _locked_draft(sheet: MonitoringSheet, user) -> tuple[MonitoringSheet, str]:
    sheet = MonitoringSheet.objects.select_for_update().select_related("office").get(pk=sheet.pk)
    title = _require_head(user, sheet.office)
    if sheet.is_signed:
        raise Conflict(_("this sheet was signed by %(name)s on %(date)s and cannot be changed; supersede it "
                         "with a new one") % {"name": sheet.signer_name,
                                              "date": timezone.localtime(sheet.signed_at, sheet.office.zoneinfo)
                                              .strftime("%d-%m-%Y")})
    return sheet, title


def _save_answers(row: MonitoringSheetRow, values: Mapping[str, str]) -> None:
    """An evaluation row: each criterion's Ya/Tidak and note, and "perlu revisi"."""
    answers = dict(row.answers)
    for key, label in CRITERIA:
        answer = (values.get(key) or "").strip()
        if answer not in ("", YES, NO):
            raise InvalidInput(_("answer Ya or Tidak for “%(criterion)s” of %(sop)s") % {
                "criterion": label, "sop": row.prosedur})
        note = (values.get(f"{key}-catatan") or "").strip()
        if len(note) > TEXT_LIMIT:
            raise InvalidInput(_("%(sop)s: write at most %(limit)s characters") % {
                "sop": row.prosedur, "limit": TEXT_LIMIT})
        answers[key] = {**answers.get(key, {}), "jawaban": answer, "catatan": note}
    row.answers = answers
    row.perlu_revisi = values.get("perlu_revisi") in ("1", "on", "true", True)
    row.catatan = (values.get("catatan") or "").strip()[:TEXT_LIMIT]


@transaction.atomic
def sheet_save(*, sheet: MonitoringSheet, user, rows: Mapping[int, Mapping[str, str]]) -> MonitoringSheet:
    """Write the head's assessments, tindakan and catatan ({row pk: {field: text}}) on a draft."""
    sheet, _title = _locked_draft(sheet, user)
    found = {row.pk: row for row in sheet.rows.all()}
    unknown = set(rows) - set(found)
    if unknown:
        raise InvalidInput(_("these rows do not belong to this sheet: %(rows)s") % {
            "rows": ", ".join(map(str, sorted(unknown)))})
    for pk, values in rows.items():
        row = found[pk]
        if sheet.kind == MonitoringSheet.Kind.EVALUATION:
            _save_answers(row, values)
            continue
        assessment = (values.get("assessment") or "").strip()
        if assessment and assessment not in MonitoringSheetRow.Assessment.values:
            raise InvalidInput(_("choose “runs well” or “does not run well” for %(sop)s") % {"sop": row.prosedur})
        for name in ("tindakan", "catatan"):
            text = (values.get(name) or "").strip()
            if len(text) > TEXT_LIMIT:
                raise InvalidInput(_("%(sop)s: write at most %(limit)s characters") % {
                    "sop": row.prosedur, "limit": TEXT_LIMIT})
            setattr(row, name, text)
        row.assessment = assessment
    MonitoringSheetRow.objects.bulk_update(list(found.values()),
                                           ["assessment", "tindakan", "catatan", "answers", "perlu_revisi"])
    _event(sheet, user, "save")
    return sheet


@transaction.atomic
def sheet_sign(*, sheet: MonitoringSheet, user) -> MonitoringSheet:
    """Sign a draft: every SOP assessed; the name, jabatan, NIP and time frozen; the sheet locked."""
    sheet, title = _locked_draft(sheet, user)
    if sheet.kind == MonitoringSheet.Kind.EVALUATION:
        missing = [row.prosedur for row in sheet.rows.all()
                   if any(not row.answers.get(key, {}).get("jawaban") for key, _label in CRITERIA)]
    else:
        missing = [row.prosedur for row in sheet.rows.all() if not row.assessment]
    if missing:
        raise InvalidInput(_("assess every SOP before signing: %(sops)s") % {"sops": "; ".join(missing)})
    # Read afresh: the NIP as it is now, not as a cached profile had it.
    nip = Profile.objects.filter(user_id=user.pk).values_list("nip", flat=True).first() or ""
    sheet.status = MonitoringSheet.Status.SIGNED
    sheet.signed_by = user
    sheet.signer_name = permissions.display_name(user)[:300]
    sheet.signer_jabatan = title[:300]
    sheet.signer_nip = nip
    sheet.signed_at = timezone.now()
    sheet.save(update_fields=["status", "signed_by", "signer_name", "signer_jabatan", "signer_nip", "signed_at"])
    _event(sheet, user, "sign")
    if sheet.kind == MonitoringSheet.Kind.EVALUATION:
        _revision_drafts(sheet, user)
    return sheet


def _revision_drafts(sheet: MonitoringSheet, user) -> None:
    """Per row marked "perlu revisi": a draft of the SOP's next revision, based on its latest revision,
    made by the signer for the office's SOP editors (the draft's "create" event says why); an open
    draft of the SOP's next revision there already is, is linked instead. Inside the signing's transaction.
    """
    rows = [row for row in sheet.rows.all() if row.perlu_revisi]
    if not rows:
        return
    # One evaluation at a time makes an SOP's draft: the SOPs' rows are locked until the signing commits.
    list(Sop.objects.select_for_update().filter(pk__in=[row.sop_id for row in rows]).order_by("pk")
         .values_list("pk", flat=True))
    reason = _("“Needs revision” on the %(form)s of %(office)s, %(period)s, signed by %(name)s (%(jabatan)s)") % {
        "form": sheet.get_kind_display(), "office": sheet.office.name, "period": sheet.period_label,
        "name": sheet.signer_name, "jabatan": sheet.signer_jabatan}
    for row in rows:
        draft = drafts.open_revision_draft(row.sop)
        if draft is None:
            latest = SopRevision.objects.filter(sop_id=row.sop_id).select_related("sop__office").order_by(
                "-number").first()
            if latest is None:  # an SOP without a revision has nothing to revise
                continue
            note = f"{reason}: {row.catatan}" if row.catatan else reason
            draft = drafts.draft_from_revision(revision=latest, user=user, reason=note, for_office_editors=True)
        row.revision_draft = draft
    MonitoringSheetRow.objects.bulk_update(rows, ["revision_draft"])


@transaction.atomic
def sheet_supersede(*, sheet: MonitoringSheet, user, reason: str) -> MonitoringSheet:
    """A new draft that replaces a signed sheet (its rows copied), with the reason; the old one stays."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("say why the signed sheet is superseded"), field="reason")
    sheet = MonitoringSheet.objects.select_for_update().select_related("office").get(pk=sheet.pk)
    _require_head(user, sheet.office)
    if not sheet.is_signed:
        raise Conflict(_("only a signed sheet can be superseded; this one is still a draft"))
    if MonitoringSheet.objects.filter(supersedes=sheet).exists():
        raise Conflict(_("this sheet was already superseded"))
    if MonitoringSheet.objects.filter(office=sheet.office, kind=sheet.kind, period_start=sheet.period_start,
                                      period_end=sheet.period_end, status=MonitoringSheet.Status.DRAFT).exists():
        raise Conflict(_("there is already a draft for this office and period; finish that one"))
    new = MonitoringSheet.objects.create(office=sheet.office, kind=sheet.kind, period_start=sheet.period_start,
                                         period_end=sheet.period_end, period_label=sheet.period_label,
                                         created_by=user, supersedes=sheet, supersede_reason=reason)
    MonitoringSheetRow.objects.bulk_create([
        MonitoringSheetRow(sheet=new, order=row.order, sop_id=row.sop_id, prosedur=row.prosedur,
                           proposed=row.proposed, assessment=row.assessment, tindakan=row.tindakan,
                           catatan=row.catatan, figures=row.figures, answers=row.answers,
                           perlu_revisi=row.perlu_revisi)
        for row in sheet.rows.all()
    ])
    _event(sheet, user, "supersede", reason)
    _event(new, user, "prepare", reason)
    return new


def sheet_rows(sheet: MonitoringSheet, user=None) -> list[MonitoringSheetRow]:
    """The rows for a page or the PDF; an evaluation row carries ``criteria``: (key, label, answer dict)
    and ``may_open_draft``: whether ``user`` may view its revision draft (``drafts.may_view``)."""
    rows = list(sheet.rows.select_related("revision_draft__office", "revision_draft__signer_position__office"))
    if sheet.kind == MonitoringSheet.Kind.EVALUATION:
        # Every draft of the sheet is of its office: one look at whether the user edits its SOPs.
        editor = user is not None and drafts.may_edit_office(user, sheet.office_id)
        with permissions.standing_remembered():
            for row in rows:
                row.criteria = [(key, label, row.answers.get(key, {})) for key, label in CRITERIA]
                draft = row.revision_draft
                row.may_open_draft = draft is not None and user is not None and (
                    editor or (draft.status != draft.Status.DRAFT and drafts.may_view(draft, user)))
    return rows
