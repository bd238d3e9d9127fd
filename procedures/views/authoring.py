"""The SOP editor and pengesahan: Draf SOP, Buat SOP, Ubah, Salin, Impor dari Word, the editor page
with its live sheet, and the signer's page (Sahkan or return).

Thin views: find the draft the user may see (``authoring.selectors.visible_draft``), call one
service of ``procedures.authoring.drafts`` and redirect, or re-render with the refusal's reason.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from procedures import engine
from procedures.authoring import drafts, form
from procedures.authoring import selectors as authoring_selectors
from procedures.authoring.models import SopDraft
from procedures.authoring.preview import draft_svg, total_of
from procedures.models import Office, Position, Sop, SopRevision

MAX_WORD_BYTES = 20 * 1024 * 1024

IDENTITY = (
    ("kode", gettext_lazy("Code (kode)"), "text",
     gettext_lazy("A stable identifier: lower-case letters, digits and hyphens.")),
    ("nama", gettext_lazy("SOP name"), "text", ""),
    ("nomor", gettext_lazy("SOP number"), "text", gettext_lazy("Printed as given, e.g. SOP/04/IX/2019.")),
    ("revisi", gettext_lazy("Printed revision"), "text", ""),
    ("tanggal_pembuatan", gettext_lazy("Date made"), "date", ""),
    ("tanggal_revisi", gettext_lazy("Date revised"), "date", ""),
    ("tanggal_efektif", gettext_lazy("Effective date"), "date", ""),
    ("jumlah_waktu", gettext_lazy("Total time as printed"), "text",
     gettext_lazy("Optional; empty: the sum of the steps' times.")),
    ("zona_waktu", gettext_lazy("Time zone"), "zone", ""),
)
LINES = (
    ("kop", gettext_lazy("Letterhead lines")),
    ("dasar_hukum", gettext_lazy("Legal basis")),
    ("kualifikasi_pelaksana", gettext_lazy("Implementer qualifications")),
    ("keterkaitan", gettext_lazy("Related SOPs")),
    ("peralatan", gettext_lazy("Equipment")),
    ("peringatan", gettext_lazy("Warnings")),
    ("pencatatan", gettext_lazy("Records and data keeping")),
    ("catatan_transkripsi", gettext_lazy("Transcription notes (not printed)")),
)
SIGNER = (
    ("jabatan", gettext_lazy("Position (jabatan)")),
    ("nama", gettext_lazy("Name")),
    ("pangkat", gettext_lazy("Rank (pangkat/golongan)")),
    ("nip", gettext_lazy("NIP/NRP")),
)
SYMBOL_CHOICES = (
    ("", gettext_lazy("(default)")),
    ("mulai", gettext_lazy("start (mulai)")),
    ("proses", gettext_lazy("process (proses)")),
    ("keputusan", gettext_lazy("decision (keputusan)")),
    ("selesai", gettext_lazy("end (selesai)")),
)


def _status(error: engine.EngineError) -> int:
    return 403 if isinstance(error, engine.NotAllowed) else 409 if isinstance(error, engine.Conflict) else 400


# ---------------------------------------------------------------------------------------------
# Draf SOP: the list, Buat SOP, Impor dari Word, Ubah, Salin
# ---------------------------------------------------------------------------------------------


def _editor_offices(request) -> list[Office]:
    offices = list(drafts.editor_offices(request.user).order_by("name"))
    if not offices:
        raise PermissionDenied(_("Only SOP editors may write SOPs; ask your office's admin for the permission."))
    return offices


def _list_page(request, *, status: int = 200, word_error: str = "", create_error: str = ""):
    offices = _editor_offices(request)
    return render(request, "procedures/authoring/draft_list.html", {
        "drafts": authoring_selectors.office_drafts(request.user),
        "offices": offices,
        "several_offices": len(offices) > 1,
        "word_error": word_error,
        "create_error": create_error,
    }, status=status)


@login_required
def draft_list(request):
    """The drafts of my offices, Buat SOP and Impor dari Word."""
    return _list_page(request)


def _chosen_office(request, offices: list[Office]) -> Office | None:
    """The office posted (None when none of mine was chosen); the only one when I have one."""
    if len(offices) == 1:
        return offices[0]
    wanted = request.POST.get("office", "")
    return next((office for office in offices if str(office.pk) == wanted), None)


@login_required
@require_POST
def draft_create(request):
    """Buat SOP: an empty draft of my office."""
    office = _chosen_office(request, _editor_offices(request))
    if office is None:
        return _list_page(request, status=400, create_error=_("Choose one of your offices."))
    draft = drafts.draft_create(office=office, user=request.user)
    return redirect("draft-edit", draft.pk)


@login_required
@require_POST
def draft_import_word(request):
    """Impor dari Word: a draft read from a .docx sheet, its flags shown at the fields."""
    office = _chosen_office(request, _editor_offices(request))
    if office is None:
        return _list_page(request, status=400, word_error=_("Choose one of your offices."))
    upload = request.FILES.get("file")
    if upload is None:
        return _list_page(request, status=400, word_error=_("Choose a Word file (.docx)."))
    if upload.size > MAX_WORD_BYTES:
        return _list_page(request, status=400, word_error=_("The file is larger than 20 MB."))
    try:
        draft = drafts.draft_import_word(office=office, user=request.user, content=upload.read(),
                                         filename=upload.name or "sop.docx")
    except engine.EngineError as error:
        return _list_page(request, status=_status(error), word_error=error.message)
    messages.info(request, _("The Word file was read into a draft; check the marked fields."))
    return redirect("draft-edit", draft.pk)


def _sop_revision(request, kode: str) -> SopRevision:
    """The latest revision of the SOP ``kode`` of an office whose SOPs the user writes."""
    ids = drafts.editor_office_ids(request.user)
    sops = Sop.objects.filter(kode=kode).select_related("office")
    if not sops.exists():
        raise Http404
    sop = sops.first() if ids is None else sops.filter(office_id__in=ids).first()
    if sop is None:
        raise PermissionDenied(_("Only the SOP editors of its office may write this SOP."))
    revision = sop.revisions.select_related("sop__office").order_by("-number").first()
    if revision is None:
        raise Http404
    return revision


@login_required
@require_POST
def sop_revise(request, kode: str):
    """Ubah: a draft of the SOP's next revision."""
    draft = drafts.draft_from_revision(revision=_sop_revision(request, kode), user=request.user)
    return redirect("draft-edit", draft.pk)


@login_required
@require_POST
def sop_copy(request, kode: str):
    """Salin: a draft of a new SOP from this one."""
    draft = drafts.draft_copy(revision=_sop_revision(request, kode), user=request.user)
    return redirect("draft-edit", draft.pk)


# ---------------------------------------------------------------------------------------------
# The editor
# ---------------------------------------------------------------------------------------------


def _editor_context(draft: SopDraft, state: form.EditorState, *, check: bool) -> dict:
    """What the editor page shows: its fields with their messages and flags, and the sheet."""
    data = form.data_from_state(state, instansi=draft.office.name)
    problems = drafts.problems_of(draft, data) if check else []
    errors = form.errors_by_field(problems, state)
    flags = form.flags_by_field(draft.flags, state)

    def at(name: str) -> dict:
        return {"id": name, "errors": errors.get(name, []), "flags": flags.get(name, [])}

    identity = [{**at(key), "name": key, "label": label, "kind": kind, "help": help_text,
                 "value": state.identity.get(key, "")} for key, label, kind, help_text in IDENTITY]
    if draft.origin == SopDraft.Origin.REVISION:
        identity[0]["readonly"] = True
    used = state.used_columns()
    columns = [{**at(f"c-{column.key}"), "key": column.key, "nama": column.nama, "used": column.key in used,
                "first": index == 0, "last": index == len(state.columns) - 1}
               for index, column in enumerate(state.columns)]
    steps = []
    for index, step in enumerate(state.steps):
        box = f"s-{step.key}"
        steps.append({
            "key": step.key, "number": index + 1, "values": step.values, "pelaksana": step.pelaksana,
            "simbol": step.simbol, "kelengkapan": step.kelengkapan, "ya": step.ya, "tidak": step.tidak,
            "unknown_actor": step.unknown_actor,
            "row": at(box), "fields": {name: at(f"{box}-{name}") for name in form.STEP_FIELDS},
            "first": index == 0, "last": index == len(state.steps) - 1,
            "decision": step.simbol == "keputusan" or (not step.simbol and bool(step.tidak)),
        })
    return {
        "draft": draft,
        "state": state,
        "identity": identity,
        "lines": [{**at(key), "name": key, "label": label, "value": state.lines.get(key, "")} for key, label in LINES],
        "signer": [{**at(f"disahkan_oleh-{key}"), "name": f"disahkan_oleh-{key}", "label": label,
                    "value": state.signer.get(key, "")} for key, label in SIGNER],
        "checks": {key: state.flags.get(key, False) for key in form.FLAG_KEYS},
        "general": at(form.GENERAL), "columns_box": at("pelaksana"), "steps_box": at("langkah"),
        "columns": columns,
        "steps": steps,
        "column_choices": state.column_names(),
        "step_choices": form.step_choices(state),
        "symbol_choices": SYMBOL_CHOICES,
        "zones": form.ZONES,
        "svg": mark_safe(draft_svg(data)),  # noqa: S308 (ElementTree escapes every text of the drawing)
        "total": total_of(data),
        "problem_count": len(problems),
        "boxes": [(name, errors.get(name, [])) for name in form.field_ids(state)],
        "positions": authoring_selectors.signer_positions(draft),
    }


def _editable_draft(request, pk: int) -> SopDraft:
    draft = authoring_selectors.visible_draft(request.user, pk)
    if not drafts.may_edit_office(request.user, draft.office_id):
        raise PermissionDenied(_("Only the SOP editors of %(office)s may change its drafts.") % {
            "office": draft.office.name})
    return draft


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def draft_edit(request, pk: int):
    """The editor: GET shows the draft; POST saves it, does a button's change, or submits it."""
    draft = _editable_draft(request, pk)
    if not draft.editable:
        return redirect("draft-review", draft.pk)
    if request.method != "POST":
        return render(request, "procedures/authoring/editor.html",
                      _editor_context(draft, form.state_from_data(draft.data), check=True))
    if "kode" not in request.POST:
        # Not the editor's form (a stale or hand-made request): saving it would empty the draft.
        return HttpResponseBadRequest(_("The editor's form was not sent whole; reload the page and try again."))
    state = form.state_from_post(request.POST)
    op = request.POST.get("op", "")
    anchor = form.apply_op(state, op) if op not in ("", "save", "submit") else None
    data = form.data_from_state(state, instansi=draft.office.name)
    try:
        draft = drafts.draft_save(draft=draft, user=request.user, data=data)
        if op == "submit":
            position = None
            wanted = request.POST.get("signer_position", "")
            if wanted.isdigit():
                position = Position.objects.filter(pk=int(wanted), office_id=draft.office_id).first()
            draft = drafts.draft_submit(draft=draft, user=request.user, signer_position=position)
            messages.success(request, _("Submitted for approval to %(position)s.") % {
                "position": draft.signer_position.name})
            return redirect("draft-review", draft.pk)
    except drafts.DraftInvalid as error:
        context = _editor_context(draft, state, check=True)
        context["notice"] = error.message
        return render(request, "procedures/authoring/editor.html", context, status=400)
    except engine.EngineError as error:
        context = _editor_context(draft, state, check=True)
        context["notice"] = error.message
        return render(request, "procedures/authoring/editor.html", context, status=_status(error))
    if state.notice:
        messages.warning(request, state.notice)
    elif op in ("", "save"):
        messages.success(request, _("Saved."))
    url = reverse("draft-edit", args=[draft.pk])
    return redirect(f"{url}#{anchor}" if anchor else url)


@login_required
@require_POST
def draft_preview(request, pk: int):
    """The sheet as the form now holds it, and the format's messages at their fields (htmx)."""
    draft = _editable_draft(request, pk)
    state = form.state_from_post(request.POST)
    return render(request, "procedures/authoring/preview.html", _editor_context(draft, state, check=True))


# ---------------------------------------------------------------------------------------------
# Pengesahan
# ---------------------------------------------------------------------------------------------


def _review_page(request, draft: SopDraft, *, status: int = 200, notice: str = "", reason: str = ""):
    data = drafts.content_of(draft)
    refusal = drafts.sign_refusal(draft, request.user) if draft.status == SopDraft.Status.SUBMITTED else None
    signer = data.get("disahkan_oleh") if isinstance(data.get("disahkan_oleh"), dict) else {}
    state = form.state_from_data(data)
    return render(request, "procedures/authoring/review.html", {
        "draft": draft,
        "data": data,
        "identity": [(label, data.get(key, "")) for key, label, _kind, _help in IDENTITY if data.get(key, "") != ""],
        "signer": [(label, signer.get(key, "")) for key, label in SIGNER if signer.get(key)],
        "lines": [(label, data.get(key)) for key, label in LINES if data.get(key)],
        "columns": state.columns,
        "steps": [step for step in data.get("langkah") or [] if isinstance(step, dict)],
        "svg": mark_safe(draft_svg(data)),  # noqa: S308 (ElementTree escapes every text of the drawing)
        "total": total_of(data),
        "may_sign": draft.status == SopDraft.Status.SUBMITTED and refusal is None,
        "refusal": refusal,
        "may_edit": draft.editable and drafts.may_edit_office(request.user, draft.office_id),
        "events": list(draft.events.select_related("actor").order_by("created_at", "pk")),
        "notice": notice,
        "reason": reason,
    }, status=status)


@login_required
def draft_review(request, pk: int):
    """The sheet as it will print, for its signer (Sahkan, Kembalikan) and its editors."""
    return _review_page(request, authoring_selectors.visible_draft(request.user, pk))


@login_required
@require_POST
def draft_approve(request, pk: int):
    """Sahkan: the signer approves; the draft becomes the SOP's revision."""
    draft = authoring_selectors.visible_draft(request.user, pk)
    try:
        draft = drafts.draft_approve(draft=draft, user=request.user)
    except engine.EngineError as error:
        draft = authoring_selectors.visible_draft(request.user, pk)
        return _review_page(request, draft, status=_status(error), notice=error.message)
    messages.success(request, _("Approved: %(name)s, revision %(number)s, is in force from now on.") % {
        "name": draft.revision.nama, "number": draft.revision.number})
    return redirect("sop-detail", draft.revision.sop.kode)


@login_required
@require_POST
def draft_return(request, pk: int):
    """Return a submitted draft to its editors with the reason."""
    draft = authoring_selectors.visible_draft(request.user, pk)
    reason = request.POST.get("reason", "")
    try:
        drafts.draft_return(draft=draft, user=request.user, reason=reason)
    except engine.EngineError as error:
        draft = authoring_selectors.visible_draft(request.user, pk)
        return _review_page(request, draft, status=_status(error), notice=error.message, reason=reason)
    messages.success(request, _("Returned to its editors."))
    return redirect("draft-review", pk)


def signer_context(request, standing) -> dict:
    """What the approvals page's "SOP awaiting approval" section needs (one query)."""
    return {"drafts_to_sign": authoring_selectors.drafts_to_sign(request.user, standing)}

