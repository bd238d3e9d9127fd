"""Pages for heads: approvals (Persetujuan), upcoming work (Akan datang), overdue (Terlambat).

What Setuju and Tolak on the approvals page send to the engine (input, not rules: the engine
decides whether it is enough):

* a decision step (keputusan): Setuju answers Ya with the kelengkapan the head ticked on the item;
  Tolak answers Tidak with the reason written on the item (the engine requires one);
* an approval step up the chain (a telaahan reaching a higher-ranked position; a process step):
  Setuju completes it with the kelengkapan the head ticked and the output "Approved" in the head's
  language. It has no Tolak: a process step has no way back in the sheet.

"Approve selected" does the same as Setuju for each selected item, one engine call per item, so one
refusal never stops the others; each item's outcome is reported by name.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from procedures import engine, selectors
from procedures.forms import TaskWorkForm
from procedures.views import authoring
from procedures.models import Task


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


def _act(user, task: Task, form: TaskWorkForm, decision: str) -> None:
    """One engine call for one item (see the module docstring); raises EngineError."""
    data = form.cleaned_data
    ticked = data.get("ticked", [])
    if decision == Task.Decision.YES and not task.step.is_decision:
        engine.task_complete(task=task, user=user, ticked=ticked, output_text=_("Approved"))
    else:
        engine.task_decide(task=task, user=user, decision=decision, reason=data.get("reason", ""), ticked=ticked)


def _status(error: engine.EngineError) -> int:
    return 403 if isinstance(error, engine.NotAllowed) else 409 if isinstance(error, engine.Conflict) else 400


def _about(task: Task, message: str) -> str:
    return _("Step %(nomor)s of “%(perihal)s”: %(message)s") % {
        "nomor": task.step.nomor, "perihal": task.run.perihal, "message": message}


def _approvals_page(request, standing: selectors.Standing, *, bound: TaskWorkForm | None = None, status: int = 200):
    items = [
        (task, bound if bound is not None and bound.task.pk == task.pk else _work_form(task))
        for task in selectors.approval_items(request.user, standing)
    ]
    return render(request, "procedures/heads/approvals.html", {
        "items": items, **authoring.signer_context(request, standing)}, status=status)


def _approve_one(request, standing: selectors.Standing):
    """Setuju or Tolak on one item: htmx gets the item back in place, a plain form the page."""
    pk, _sep, decision = request.POST.get("act", "").partition(":")
    if not pk.isdigit() or decision not in Task.Decision.values:
        return HttpResponseBadRequest(_("Choose Setuju or Tolak on an item."))
    task = selectors.approval_item(request.user, int(pk))
    form = _work_form(task, request.POST, decision)
    status, notice = 200, ""
    if not form.is_valid():
        status = 400
    else:
        try:
            _act(request.user, task, form, decision)
        except engine.EngineError as error:
            status = _status(error)
            if error.field and error.field in form.fields:
                form.add_error(error.field, error.message)
            else:
                notice = error.message
    if status == 200:
        notice = _("Approved.") if decision == Task.Decision.YES else _("Rejected; the run follows the No path.")
        if not request.htmx:
            messages.success(request, _about(task, notice))
            return redirect("approvals")
    if request.htmx:
        fresh = selectors.approval_item(request.user, task.pk)
        return render(request, "procedures/heads/approval_item.html", {
            "task": fresh, "form": form if fresh.is_open else None, "notice": notice, "ok": status == 200,
            "oob_counts": True,
        }, status=status)
    if notice:
        messages.error(request, _about(task, notice))
    return _approvals_page(request, standing, bound=form, status=status)


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
    _head_standing(request)
    selected = list(dict.fromkeys(pk for pk in request.POST.getlist("selected") if pk.isdigit()))
    if not selected:
        messages.warning(request, _("Select the items to approve first."))
        return redirect("approvals")
    for pk in selected:
        try:
            task = selectors.approval_item(request.user, int(pk))
        except (Http404, PermissionDenied):
            messages.error(request, _("Item %(pk)s is not among your approvals.") % {"pk": pk})
            continue
        form = _work_form(task, request.POST, Task.Decision.YES)
        try:
            if not form.is_valid():
                raise engine.InvalidInput("; ".join(str(e) for errors in form.errors.values() for e in errors))
            _act(request.user, task, form, Task.Decision.YES)
        except engine.EngineError as error:
            messages.error(request, _about(task, error.message))
        else:
            messages.success(request, _about(task, _("Approved.")))
    return redirect("approvals")


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
