"""Pages for heads: approvals (Persetujuan), upcoming work (Akan datang), overdue (Terlambat).

What Setuju and Tolak on the approvals page send to the engine (input, not rules: the engine
decides whether it is enough):

* a decision step (keputusan): Setuju answers Ya with the kelengkapan the head ticked on the item;
  Tolak answers Tidak with the reason written on the item (the engine requires one);
* an approval step up the chain (a telaahan reaching a higher-ranked position; a process step):
  Setuju completes it with the kelengkapan the head ticked and the output "Approved" in the head's
  language. It has no Tolak: a process step has no way back in the sheet.

A decision's buttons are its answers in the sheet's words, each with where it leads
(procedures.decisions); an answer that ends the run or sends the work back is confirmed first (the
item shows the confirmation; only its button posts ``?confirmed=1``). "Kembalikan" on an item
(``act=<id>:kembali``) sends the work back to the step before instead (engine.task_return). One
tick, "kelengkapan sudah diperiksa", confirms every item of an item's kelengkapan.

"Approve selected" does the same as Setuju for each selected item, one engine call per item, so one
refusal never stops the others; each item's outcome is reported by name. It gives one answer, Ya: an
item whose Ya ends the run or sends the work back is not offered for it. After a refusal the page
shows again with the selection kept and each refusal beside its item.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from procedures import decisions, engine, selectors
from procedures.forms import TaskWorkForm
from procedures.views import authoring
from procedures.models import Task


# The "act" value of an item's "Kembalikan" (send back to the step before: engine.task_return).
SEND_BACK = "kembali"


def _head_standing(request) -> selectors.Standing:
    """The user's standing, or 403 when they are no head anywhere."""
    standing = selectors.request_standing(request)
    if not selectors.is_head_anywhere(request.user, standing):
        raise PermissionDenied
    return standing


def _work_form(task: Task, data: QueryDict | None = None, decision: str = "") -> TaskWorkForm:
    """The item's form; its fields are prefixed with the task so that one page holds many."""
    prefix = f"t{task.pk}"
    if data is not None:
        data = data.copy()
        data[f"{prefix}-decision"] = decision  # the button pressed is the answer
    return TaskWorkForm(data, task=task, prefix=prefix)


def _act(user, task: Task, form: TaskWorkForm, decision: str, *, all_checked: bool = False) -> None:
    """One engine call for one item (see the module docstring); raises EngineError.

    ``all_checked``: the head ticked "kelengkapan sudah diperiksa", which confirms every item.
    """
    data = form.cleaned_data
    ticked = data.get("ticked", [])
    if all_checked:
        ticked = [item.pk for item in task.step.kelengkapan.all()]
    if decision == Task.Decision.YES and not task.step.is_decision:
        engine.task_complete(task=task, user=user, ticked=ticked, output_text=_("Approved"))
    else:
        engine.task_decide(task=task, user=user, decision=decision, reason=data.get("reason", ""), ticked=ticked)


def _status(error: engine.EngineError) -> int:
    return 403 if isinstance(error, engine.NotAllowed) else 409 if isinstance(error, engine.Conflict) else 400


def _about(task: Task, message: str) -> str:
    return _("Step %(nomor)s of “%(perihal)s”: %(message)s") % {
        "nomor": task.step.nomor, "perihal": task.run.perihal, "message": message}


def _mark(task: Task, standing: selectors.Standing) -> Task:
    """What an item shows beyond the task: the Plt/Plh title it reaches the user by, whether bulk may answer it."""
    task.acting_as = next((role.title for role in standing.acting_roles if role.position_id == task.position_id), "")
    yes = decisions.decision_of(task.step)
    # "Approve selected" gives one answer, Ya, to all: not to an item whose Ya ends the run or
    # sends the work back, which asks first on its own.
    task.bulk_ok = not (yes and yes.answer(Task.Decision.YES).confirm)
    task.return_to = engine.return_target(task, task.earlier)
    return task


def _approvals_page(request, standing: selectors.Standing, *, bound: TaskWorkForm | None = None, status: int = 200,
                    confirm: str = "", selected: frozenset[str] = frozenset(), errors: dict | None = None,
                    about: dict | None = None, data: QueryDict | None = None):
    """The page; after a refused "Approve selected" the selection, ticks and each item's error stay."""
    errors = errors or {}
    items = []
    for task in selectors.approval_items(request.user, standing):
        _mark(task, standing)
        task.selected = str(task.pk) in selected
        task.bulk_error = errors.get(task.pk, "")
        task.all_checked = data is not None and str(task.pk) in data.getlist("checked")
        if bound is not None and bound.task.pk == task.pk:
            form = bound
            task.confirm = confirm
        elif data is not None and task.bulk_error:
            form = _work_form(task, data, Task.Decision.YES)
            form.is_valid()
        else:
            form = _work_form(task)
        items.append((task, form))
    listed = {task.pk for task, _form in items}
    return render(request, "procedures/heads/approvals.html", {
        "items": items,
        "unknown_errors": [(about or {}).get(pk, message) for pk, message in errors.items() if pk not in listed],
        **authoring.signer_context(request, standing),
    }, status=status)


def _approve_one(request, standing: selectors.Standing):
    """Setuju or Tolak on one item: htmx gets the item back in place, a plain form the page."""
    pk, _sep, decision = request.POST.get("act", "").partition(":")
    if not pk.isdigit() or decision not in (*Task.Decision.values, SEND_BACK):
        return HttpResponseBadRequest(_("Choose Setuju or Tolak on an item."))
    task = selectors.approval_item(request.user, int(pk))
    form = _work_form(task, request.POST, decision if decision != SEND_BACK else "")
    all_checked = pk in request.POST.getlist("checked")
    status, notice, confirm = 200, "", ""
    if decision == SEND_BACK:
        _mark(task, standing)
        try:
            engine.task_return(task=task, user=request.user, reason=request.POST.get(f"return-{task.pk}", ""))
        except engine.EngineError as error:
            status, notice = _status(error), error.message
    elif not form.is_valid():
        status = 400
    elif ((decision == Task.Decision.YES or form.cleaned_data.get("reason", "").strip())  # else the engine says why
          and decisions.needs_confirmation(task.step, decision) and not request.GET.get("confirmed")):
        confirm = decision  # the item asks first (static/js/confirm.js does it without this round trip)
    else:
        try:
            _act(request.user, task, form, decision, all_checked=all_checked)
        except engine.EngineError as error:
            status = _status(error)
            if error.field and error.field in form.fields:
                form.add_error(error.field, error.message)
            else:
                notice = error.message
    if status == 200 and not confirm:
        notice = _answered(task, decision)
        if not request.htmx:
            messages.success(request, _about(task, notice))
            return redirect("approvals")
    if request.htmx:
        fresh = _mark(selectors.approval_item(request.user, task.pk), standing)
        fresh.confirm = confirm
        fresh.all_checked = all_checked
        return render(request, "procedures/heads/approval_item.html", {
            "task": fresh, "form": form if fresh.is_open else None, "notice": notice, "ok": status == 200,
            "oob_counts": True,
        }, status=status)
    if notice:
        messages.error(request, _about(task, notice))
    return _approvals_page(request, standing, bound=form, status=status, confirm=confirm)


def _answered(task: Task, decision: str) -> str:
    """What an item says once answered, in approval words."""
    if decision == SEND_BACK:
        return _("Sent back to step %(nomor)s for correction.") % {"nomor": task.return_to.step.nomor}
    found = decisions.decision_of(task.step)
    if found is None:
        return _("Approved.")
    answer = found.answer(decision)
    return _("Answered “%(words)s”; next: %(leads_to)s.") % {"words": answer.words, "leads_to": answer.leads_to}


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def approvals(request):
    """The decisions and telaahan waiting for my positions; POST answers one of them."""
    standing = _head_standing(request)
    if request.method == "POST":
        return _approve_one(request, standing)
    return _approvals_page(request, standing)


@login_required
@require_POST
def approvals_bulk(request):
    """Setuju for every selected item, each its own engine call; report each one."""
    standing = _head_standing(request)
    selected = list(dict.fromkeys(pk for pk in request.POST.getlist("selected") if pk.isdigit()))
    if not selected:
        messages.warning(request, _("Select the items to approve first."))
        return redirect("approvals")
    checked = set(request.POST.getlist("checked"))
    errors: dict = {}  # by task id (a raw posted id when no such approval): shown beside the item
    about: dict = {}  # the same naming the item: shown atop the page when the item is gone from it
    for pk in selected:
        try:
            task = selectors.approval_item(request.user, int(pk))
        except (Http404, PermissionDenied):
            errors[pk] = _("Item %(pk)s is not among your approvals.") % {"pk": pk}
            continue
        form = _work_form(task, request.POST, Task.Decision.YES)
        try:
            if not _mark(task, standing).bulk_ok:
                raise engine.InvalidInput(_("its Ya ends the run or sends the work back: answer it on the item itself"))
            if not form.is_valid():
                raise engine.InvalidInput("; ".join(str(e) for field_errors in form.errors.values() for e in field_errors))
            _act(request.user, task, form, Task.Decision.YES, all_checked=pk in checked)
        except engine.EngineError as error:
            errors[task.pk] = _not_approved(error)
            about[task.pk] = _about(task, error.message)
        else:
            messages.success(request, _about(task, _answered(task, Task.Decision.YES)))
    if not errors:
        return redirect("approvals")
    # The selection stays, each refusal beside its item.
    messages.error(request, ngettext("%(n)s item was not approved; see the item.",
                                     "%(n)s items were not approved; see each item.", len(errors)) % {"n": len(errors)})
    return _approvals_page(request, standing, selected=frozenset(selected), errors=errors, about=about,
                           data=request.POST)


def _not_approved(error: engine.EngineError) -> str:
    """A refusal beside its item, in approval words."""
    return _("Not approved: %(reason)s.") % {"reason": error.message.rstrip(".")}


@login_required
def upcoming(request):
    """Steps of my positions coming next in runs under way, so that I can prepare."""
    standing = selectors.request_standing(request)
    return render(request, "procedures/heads/upcoming.html", {
        "items": selectors.upcoming(request.user, standing),
    })


@login_required
def overdue(request):
    """Overdue open tasks in the offices where I am a head, by position and by person."""
    standing = _head_standing(request)
    now = timezone.now()
    return render(request, "procedures/heads/overdue.html", {
        "board": selectors.overdue_board(request.user, standing, now=now),
        "now": now,
    })
