"""SOP drafts: write an SOP in the browser, submit it, and have its signer approve it (pengesahan).

Every change of a draft goes through these services, as every change of a run goes through
procedures.engine: each locks the draft's row, checks who may act and why not (the reason in the
user's language, an ``EngineError``), calls the django-fsm transition on the model, and writes one
append-only ``DraftEvent`` — all in one transaction.

Who may:

* **write** (create, save, submit): an active user with the ``procedures.edit_sop_draft``
  permission (given per group, "Penyusun SOP") who belongs to the draft's office
  (``staffing.user_office_ids``), or a superuser. A draft is private to those until submitted.
* **approve (Sahkan) or return**: a holder of the draft's signer position, or its Plt/Plh of today;
  never the draft's author nor whoever submitted it (no self-approval).

Approval makes the revision through the library's import (``library.sop_import`` of the text
``sopfile.dump`` writes), so a revision signed here is exactly what importing its file gives, and
its export re-imports unchanged. Runs started afterwards use it; runs under way keep theirs.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition

from procedures import permissions, staffing
from procedures.authoring.models import DraftEvent, SopDraft
from procedures.engine import Conflict, InvalidInput, NotAllowed
from procedures.library import revision_document, sop_import
from procedures.models import Office, Position, Sop, SopRevision
from procedures.sopfile import Problem, SopDocument, SopFileError, dump, validate

EDIT_PERMISSION = "procedures.edit_sop_draft"
ACTING_PREFIX = re.compile(r"^(?:plt|plh)\.?\s+")


# ---------------------------------------------------------------------------------------------
# Who may
# ---------------------------------------------------------------------------------------------


def editor_office_ids(user) -> set[int] | None:
    """The offices whose SOPs ``user`` may write: None for a superuser (every office)."""
    if not (user.is_authenticated and user.is_active):
        return set()
    if user.is_superuser:
        return None
    if not user.has_perm(EDIT_PERMISSION):
        return set()
    return staffing.user_office_ids(user)


def editor_offices(user) -> QuerySet[Office]:
    ids = editor_office_ids(user)
    return Office.objects.all() if ids is None else Office.objects.filter(pk__in=ids)


def may_edit_office(user, office_id: int) -> bool:
    ids = editor_office_ids(user)
    return ids is None or office_id in ids


def edit_refusal(draft: SopDraft, user) -> str | None:
    """Why ``user`` may not change ``draft`` now, or None."""
    if not may_edit_office(user, draft.office_id):
        return _("only the SOP editors of %(office)s may change its drafts") % {"office": draft.office.name}
    if not draft.editable:
        return _("this draft is %(status)s and cannot be changed now") % {"status": draft.get_status_display()}
    return None


def sign_refusal(draft: SopDraft, user) -> str | None:
    """Why ``user`` may not approve (or return) ``draft``, or None."""
    if draft.status != SopDraft.Status.SUBMITTED:
        return _("this draft is %(status)s, not waiting for approval") % {"status": draft.get_status_display()}
    position = draft.signer_position
    allowed, _acting = permissions.standing(user, position)
    if not allowed:
        return _("only the %(position)s of %(office)s (or its Plt/Plh today) may approve this SOP; who may: "
                 "%(names)s") % {
            "position": position.name, "office": position.office.name,
            "names": ", ".join(permissions.who_may_act(position)) or "—"}
    if user.pk in (draft.author_id, draft.submitted_by_id):
        return _("you wrote or submitted this draft yourself, and nobody may approve their own work; who else may: "
                 "%(names)s") % {"names": ", ".join(permissions.who_may_act(position, exclude=user)) or "—"}
    return None


def may_view(draft: SopDraft, user) -> bool:
    """The office's editors always; once submitted, whoever may act for its signer position."""
    if may_edit_office(user, draft.office_id):
        return True
    if draft.status == SopDraft.Status.DRAFT or draft.signer_position_id is None:
        return False
    return permissions.standing(user, draft.signer_position)[0]


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _atomic(func):
    """Run a service in one transaction; a lost race is a Conflict, never a 500."""

    def wrapper(*args, **kwargs):
        try:
            with transaction.atomic(), permissions.standing_remembered():
                return func(*args, **kwargs)
        except (ConcurrentTransition, IntegrityError):
            raise Conflict(_("someone else changed this draft at the same moment; reload the page")) from None
        except OperationalError as error:
            if "database is locked" not in str(error) and getattr(error.__cause__, "pgcode", None) != "55P03":
                raise
            raise Conflict(_("someone else is working on this draft at this moment; try again in a moment")) from None

    wrapper.__name__, wrapper.__doc__ = func.__name__, func.__doc__
    return wrapper


def _lock(draft: SopDraft) -> SopDraft:
    """The draft's row, locked, as it is now (the page may hold an old copy)."""
    return SopDraft.objects.select_for_update(of=("self",)).select_related(
        "office", "signer_position__office", "sop").get(pk=draft.pk)


def _event(draft: SopDraft, user, transition: str, source: str, *, acting=None, reason: str = "") -> DraftEvent:
    return DraftEvent.objects.create(
        draft=draft, actor=user, acting=acting, acting_title=acting.title() if acting else "",
        transition=transition, source=source, target=draft.status, reason=reason,
    )


def _today(office: Office):
    return timezone.localdate(timezone=office.zoneinfo)


def content_of(draft: SopDraft) -> dict[str, Any]:
    """The draft's data as an SOP file's values: its office is its instansi, an "Ubah" keeps its kode."""
    data = copy.deepcopy(draft.data) if isinstance(draft.data, dict) else {}
    data["instansi"] = draft.office.name
    if draft.origin == SopDraft.Origin.REVISION and draft.sop_id:
        data["kode"] = draft.sop.kode
    return data


def problems_of(draft: SopDraft, data: dict[str, Any] | None = None) -> list[Problem]:
    """Everything that keeps the draft from being a valid SOP file (the format's own messages)."""
    data = content_of(draft) if data is None else data
    try:
        validate(data)
    except SopFileError as error:
        return list(error.problems)
    problems = [problem for problem in (_kode_clash(draft, data), _stale_base(draft)) if problem]
    return problems


def _stale_base(draft: SopDraft) -> Problem | None:
    """An "Ubah" must revise the SOP's latest revision: one signed meanwhile would be overwritten unseen."""
    if draft.origin != SopDraft.Origin.REVISION or draft.based_on_id is None:
        return None
    latest = SopRevision.objects.filter(sop_id=draft.sop_id).order_by("-number").values_list("pk", "number").first()
    if latest and latest[0] != draft.based_on_id:
        return Problem("", _("the SOP has a newer revision (%(number)s) than the one this draft changes; make a new "
                             "draft with Ubah and carry your changes over") % {"number": latest[1]})
    return None


def _kode_clash(draft: SopDraft, data: dict[str, Any]) -> Problem | None:
    """A new SOP must not take the code of another SOP of its office (its import would revise that one)."""
    if draft.origin == SopDraft.Origin.REVISION:
        return None
    kode = data.get("kode")
    if isinstance(kode, str) and Sop.objects.filter(office_id=draft.office_id, kode=kode).exists():
        return Problem("kode", _("the code “%(kode)s” is already used by another SOP of %(office)s; choose another") % {
            "kode": kode, "office": draft.office.name})
    return None


def _unique_kode(office_id: int, base: str) -> str:
    taken = set(Sop.objects.filter(office_id=office_id, kode__startswith=base).values_list("kode", flat=True))
    taken |= {kode for kode in SopDraft.objects.filter(office_id=office_id).values_list("data__kode", flat=True)
              if isinstance(kode, str)}
    for number in range(1, 1000):
        kode = f"{base}-salinan" if number == 1 else f"{base}-salinan-{number}"
        if kode not in taken:
            return kode[:100]
    return base


def _signer_position(draft: SopDraft, data: dict[str, Any], chosen: Position | None) -> Position:
    """The position that signs: the one chosen, else the office's position named in disahkan_oleh."""
    if chosen is not None:
        if chosen.office_id != draft.office_id:
            raise InvalidInput(_("choose a position of %(office)s") % {"office": draft.office.name},
                               field="signer_position")
        return chosen
    signer = data.get("disahkan_oleh") if isinstance(data.get("disahkan_oleh"), dict) else {}
    jabatan = " ".join(str(signer.get("jabatan") or "").split()).casefold()
    # A sheet signed by an acting official names "Plh. Kasat Pol PP": its next revision goes to the Kasat.
    jabatan = ACTING_PREFIX.sub("", jabatan)
    for position in Position.objects.filter(office_id=draft.office_id).select_related("office"):
        if jabatan and " ".join(position.name.split()).casefold() == jabatan:
            return position
    raise InvalidInput(_("choose the position that approves this SOP (no position of %(office)s is called "
                         "“%(jabatan)s”)") % {"office": draft.office.name, "jabatan": signer.get("jabatan") or "—"},
                       field="signer_position")


# ---------------------------------------------------------------------------------------------
# Making drafts
# ---------------------------------------------------------------------------------------------


def _check_office(office: Office, user) -> None:
    if not may_edit_office(user, office.pk):
        raise NotAllowed(_("only the SOP editors of %(office)s may write its SOPs") % {"office": office.name})


@_atomic
def draft_create(*, office: Office, user, data: dict[str, Any] | None = None, origin: str = SopDraft.Origin.NEW,
                 flags: list[dict[str, str]] | None = None, sop: Sop | None = None,
                 based_on: SopRevision | None = None, reason: str = "",
                 for_office_editors: bool = False) -> SopDraft:
    """A new draft of ``office``: empty ("Buat SOP"), or with the content given.

    ``reason`` is written on the "create" event (why the draft was made). ``for_office_editors`` is
    the system path of a signed evaluation sheet (procedures.monitoring.sheets): its signer, a head
    who need not be an SOP editor, makes the draft for the office's editors, who then write it.
    Users' own requests never pass it: for them only the office's editors may make drafts.
    """
    if not for_office_editors:
        _check_office(office, user)
    data = dict(data or {"kode": "", "nama": "", "pelaksana": [], "langkah": []})
    data["instansi"] = office.name
    now = timezone.now()
    draft = SopDraft.objects.create(office=office, author=user, data=data, origin=origin, flags=list(flags or []),
                                    sop=sop, based_on=based_on, created_at=now, updated_at=now, updated_by=user)
    _event(draft, user, "create", "", reason=reason)
    return draft


def _revision_data(revision: SopRevision) -> dict[str, Any]:
    return revision_document(revision).as_dict()


def draft_from_revision(*, revision: SopRevision, user, reason: str = "",
                        for_office_editors: bool = False) -> SopDraft:
    """"Ubah": a draft of the SOP's next revision, starting from ``revision``'s content.

    ``reason`` and ``for_office_editors`` as for ``draft_create`` (the evaluation sheet's path).
    """
    data = _revision_data(revision)
    data["revisi"] = int(data.get("revisi") or 0) + 1
    data.pop("tanggal_revisi", None)  # set when the new revision is signed
    return draft_create(office=revision.sop.office, user=user, data=data, origin=SopDraft.Origin.REVISION,
                        sop=revision.sop, based_on=revision, reason=reason, for_office_editors=for_office_editors)


OPEN_STATUSES = (SopDraft.Status.DRAFT, SopDraft.Status.SUBMITTED, SopDraft.Status.RETURNED)


def open_revision_draft(sop: Sop) -> SopDraft | None:
    """The SOP's next revision being written (not yet approved), if any: the oldest such draft."""
    return (SopDraft.objects.filter(sop=sop, origin=SopDraft.Origin.REVISION, status__in=OPEN_STATUSES)
            .order_by("created_at", "pk").first())


def draft_copy(*, revision: SopRevision, user) -> SopDraft:
    """"Salin": a draft of a new SOP with ``revision``'s content, under a code of its own."""
    data = _revision_data(revision)
    data["kode"] = _unique_kode(revision.sop.office_id, revision.sop.kode)
    data["nama"] = _("%(name)s (copy)") % {"name": data.get("nama", "")}
    data["revisi"] = 0
    for key in ("nomor", "tanggal_pembuatan", "tanggal_revisi", "tanggal_efektif"):
        data.pop(key, None)
    signer = data.get("disahkan_oleh") or {}
    if signer.get("jabatan"):
        data["disahkan_oleh"] = {"jabatan": signer["jabatan"]}  # the signer's person is set on approval
    else:
        data.pop("disahkan_oleh", None)
    return draft_create(office=revision.sop.office, user=user, data=data, origin=SopDraft.Origin.COPY,
                        based_on=revision)


def draft_import_word(*, office: Office, user, content: bytes, filename: str) -> SopDraft:
    """"Impor dari Word": a draft read from a .docx sheet, with the reader's flags on its fields."""
    from procedures.authoring.word import WordImportError, read_docx

    _check_office(office, user)
    try:
        word = read_docx(content, filename=filename)
    except WordImportError as error:
        raise InvalidInput(str(error), field="file") from None
    return draft_create(office=office, user=user, data=word.data, origin=SopDraft.Origin.WORD,
                        flags=[{"path": flag.path, "message": flag.message} for flag in word.flags])


# ---------------------------------------------------------------------------------------------
# Saving, submitting, approving, returning
# ---------------------------------------------------------------------------------------------


@_atomic
def draft_save(*, draft: SopDraft, user, data: dict[str, Any]) -> SopDraft:
    """Keep what the editor holds; a draft may be saved incomplete."""
    draft = _lock(draft)
    refusal = edit_refusal(draft, user)
    if refusal:
        raise NotAllowed(refusal)
    if not isinstance(data, dict):
        raise InvalidInput(_("the draft's content is not a block of keys"))
    draft.data = data
    draft.data["instansi"] = draft.office.name
    draft.updated_at, draft.updated_by = timezone.now(), user
    draft.save(update_fields=["data", "updated_at", "updated_by"])
    _event(draft, user, "save", draft.status)
    return draft


class DraftInvalid(InvalidInput):
    """A draft that is not yet a valid SOP file: every problem, by key path."""

    def __init__(self, problems: list[Problem]):
        super().__init__(_("the SOP is not complete yet: %(count)s problem(s), shown at their fields") % {
            "count": len(problems)})
        self.problems = problems


@_atomic
def draft_submit(*, draft: SopDraft, user, signer_position: Position | None = None) -> SopDraft:
    """"Ajukan pengesahan": a complete, valid SOP goes to the position that signs it."""
    draft = _lock(draft)
    refusal = edit_refusal(draft, user)
    if refusal:
        raise NotAllowed(refusal)
    data = content_of(draft)
    problems = problems_of(draft, data)
    if problems:
        raise DraftInvalid(problems)
    position = _signer_position(draft, data, signer_position)
    source = draft.status
    draft.submit(user=user, signer_position=position)
    draft.save(update_fields=["status", "submitted_by", "submitted_at", "signer_position", "return_reason"])
    _event(draft, user, "submit", source)
    return draft


def signed_content(draft: SopDraft, user, acting) -> dict[str, Any]:
    """The draft as its signed file: the signer's name, jabatan, pangkat and NIP, and today's dates."""
    data = content_of(draft)
    profile = staffing.profile_of(user)
    position = draft.signer_position
    signer = {
        "jabatan": acting.title() if acting else position.name,
        "nama": permissions.display_name(user),
        "pangkat": profile.pangkat if profile else "",
        "nip": profile.nip if profile else "",
    }
    data["disahkan_oleh"] = {key: value for key, value in signer.items() if value}
    today = _today(draft.office).isoformat()
    if draft.origin == SopDraft.Origin.REVISION:
        data["tanggal_revisi"] = today
    elif not data.get("tanggal_pembuatan"):
        data["tanggal_pembuatan"] = today
    if not data.get("tanggal_efektif"):
        data["tanggal_efektif"] = today
    return data


def _lock_for_signer(draft: SopDraft, user) -> tuple[SopDraft, object]:
    """Lock a submitted draft for its signer's answer; return it with the Plt/Plh the signer acts as."""
    draft = _lock(draft)
    if draft.status != SopDraft.Status.SUBMITTED:
        raise Conflict(sign_refusal(draft, user) or "")
    refusal = sign_refusal(draft, user)
    if refusal:
        raise NotAllowed(refusal)
    _allowed, acting = permissions.standing(user, draft.signer_position)
    return draft, acting


@_atomic
def draft_approve(*, draft: SopDraft, user) -> SopDraft:
    """"Sahkan": the signer approves; the draft becomes the SOP's next revision (a new SOP's first)."""
    draft, acting = _lock_for_signer(draft, user)
    data = signed_content(draft, user, acting)
    problems = problems_of(draft, data)
    if problems:  # e.g. another SOP took its code since it was submitted
        raise DraftInvalid(problems)
    document: SopDocument = validate(data)
    if draft.sop_id:  # "Ubah": the SOP's row is locked by the import; a second signer waits here
        Sop.objects.select_for_update().filter(pk=draft.sop_id).first()
    result = sop_import(data=dump(document).encode(), source=f"editor-{draft.pk}.yaml", user=user)
    if result.refused:
        raise InvalidInput("; ".join(str(problem) for problem in result.problems))
    revision = SopRevision.objects.get(sop__office_id=draft.office_id, sop__kode=document.kode,
                                       number=result.revision)
    draft.approve(user=user, revision=revision)
    if draft.sop_id is None:
        draft.sop = revision.sop
    draft.data = data
    draft.save(update_fields=["status", "decided_by", "decided_at", "revision", "sop", "data"])
    _event(draft, user, "approve", SopDraft.Status.SUBMITTED, acting=acting)
    return draft


@_atomic
def draft_return(*, draft: SopDraft, user, reason: str) -> SopDraft:
    """Return a submitted draft to its editors with the reason (what to change)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("say why the draft is returned: what should its editors change?"), field="reason")
    if len(reason) > 2000:
        raise InvalidInput(_("the reason may be at most 2,000 characters"), field="reason")
    draft, acting = _lock_for_signer(draft, user)
    draft.send_back(user=user, reason=reason)
    draft.save(update_fields=["status", "decided_by", "decided_at", "return_reason"])
    _event(draft, user, "return", SopDraft.Status.SUBMITTED, acting=acting, reason=reason)
    return draft


