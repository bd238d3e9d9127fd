"""Views of the browser app: find what the user may see, call one engine service, render.

htmx requests get the partial template that the full page includes.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from procedures import decisions, engine, flowchart, inbox_rows, permissions, readiness, selectors, timeline, uploads
from procedures.forms import CancelRunForm, ReturnForm, StartRunForm, TaskWorkForm
from procedures.monitoring.reminders import sheet_notices
from procedures.views.errors import Missing
from procedures.models import Task


@login_required
def inbox(request):
    standing = selectors.request_standing(request)
    tasks = selectors.my_tasks(request.user, standing)
    titles = {role.position_id: role.title for role in standing.acting_roles}
    for task in tasks:
        task.acting_as = titles.get(task.position_id, "")
    # Each row's HTML is written once in Python (procedures.inbox_rows): a head's inbox has many.
    tasks = inbox_rows.task_rows(tasks)
    # A head's decisions and reports to approve are counted under Persetujuan, not under "Tugas
    # saya" too: listed here in a section of their own, apart from the other tasks.
    heads_page = selectors.is_head_anywhere(request.user, standing)
    approvals = [task for task in tasks
                 if heads_page and task.is_approval and task.position_id in standing.position_ids]
    others = [task for task in tasks if task not in approvals]
    return render(request, "procedures/inbox.html", {
        "mine": [task for task in others if task.assignee_id == request.user.pk],
        "claimable": [task for task in others if task.assignee_id is None],
        "approvals": approvals,
        # Heads only (no query for others): the semester's monitoring sheets still to sign.
        "sheet_notices": sheet_notices(standing),
    })


def _visible_task(request, pk: int) -> Task:
    return selectors.visible_task(request.user, pk, selectors.request_standing(request))


def _visible_run(request, pk: int):
    return selectors.visible_run(request.user, pk, selectors.request_standing(request))


def _task_page(request, task: Task, form: TaskWorkForm | None = None, status: int = 200, *,
               confirm: str = "", return_form: ReturnForm | None = None):
    standing = selectors.request_standing(request)
    earlier, files = selectors.earlier_work(task)
    # The permission checks below ask whether the user holds the task's position: the request's
    # standing already knows, so they need not ask the database again.
    with permissions.standing_remembered():
        permissions.remember_holder(request.user, task.position, holds_it=task.position_id in standing.held)
        refusal = permissions.act_refusal(task, request.user) if task.is_open else None
    is_head = task.is_open and selectors.is_head_of(request.user, task, standing)
    can_release = task.status == Task.Status.IN_PROGRESS and (task.assignee_id == request.user.pk or is_head)
    can_act = task.is_open and refusal is None and task.assignee_id in (None, request.user.pk)
    holders = selectors.position_holders(task.position) if task.is_open else []
    acting_as = next((role.title for role in standing.acting_roles if role.position_id == task.position_id), "")
    return_to = engine.return_target(task, earlier) if can_act else None
    context = {
        "task": task,
        "form": form or TaskWorkForm(task=task),
        "earlier": earlier,
        "refusal": refusal,
        "can_act": can_act,
        "can_release": can_release,
        # "Ambil" only where someone else could take the task too (several holders, or a Plt/Plh);
        # completing claims it anyway.
        "can_claim": can_act and task.status == Task.Status.WAITING and (len(holders) > 1 or bool(acting_as)),
        "return_to": return_to,
        "can_return": return_to is not None,
        "return_form": return_form or ReturnForm(),
        "reassign_to": [holder for holder in holders if holder.pk != task.assignee_id] if is_head else [],
        "acting_as": acting_as,
        "confirm": confirm,
        "kelengkapan": list(task.step.kelengkapan.all()),
        "files": files,
    }
    template = "procedures/partials/task_panel.html" if request.htmx else "procedures/task_detail.html"
    return render(request, template, context, status=status)


@login_required
def task_detail(request, pk: int):
    return _task_page(request, _visible_task(request, pk))


def _refusal_status(error: engine.EngineError) -> int:
    """403 for a refusal, 409 when someone else was faster, 400 for bad input."""
    return 403 if isinstance(error, engine.NotAllowed) else 409 if isinstance(error, engine.Conflict) else 400


def _engine_call(request, task: Task, action, *, success: str, form: TaskWorkForm | None = None,
                 return_form: ReturnForm | None = None, then=None):
    """Run one engine service; a refusal re-renders the task with its reason, never a 500.

    ``then`` (given the task) says where to go afterwards; by default back to the task.
    """
    try:
        action()
    except engine.EngineError as error:
        for bound in (form, return_form):
            if bound is not None and error.field and error.field in bound.fields:
                bound.add_error(error.field, error.message)
                break
        else:
            messages.error(request, error.message)
        fresh = _visible_task(request, task.pk)
        # The refused form comes back as it was sent: what was typed stays (files must be chosen again).
        return _task_page(request, fresh, form, status=_refusal_status(error), return_form=return_form)
    messages.success(request, success)
    url = then(task) if then is not None else reverse("task-detail", args=[task.pk])
    if request.htmx:
        # Not a 302: the browser would follow it inside the XHR and htmx would never see the header.
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _next_useful(request, done: Task) -> str:
    """After a step: the next step if it is the user's too, else the inbox with who is next named."""
    following = selectors.following_task(done)
    if following is None:
        if selectors.run_finished(done.run_id):
            messages.info(request, _("The run is finished: no step follows."))
        return reverse("inbox")
    if permissions.act_refusal(following, request.user) is None:
        return reverse("task-detail", args=[following.pk])
    names = permissions.who_may_act(following.position)
    messages.info(request, _("Step %(nomor)s is next, with %(position)s: %(names)s.") % {
        "nomor": following.step.nomor, "position": following.position.name,
        "names": ", ".join(names) if names else _("nobody holds the position yet")})
    return reverse("inbox")


@login_required
@require_POST
def task_claim(request, pk: int):
    task = _visible_task(request, pk)
    return _engine_call(request, task, lambda: engine.task_claim(task=task, user=request.user),
                        success=_("The task is yours now."))


@login_required
@require_POST
def task_release(request, pk: int):
    task = _visible_task(request, pk)
    return _engine_call(request, task, lambda: engine.task_release(task=task, user=request.user),
                        success=_("The task was released for the other holders of the position."))


@login_required
@require_POST
def task_complete(request, pk: int):
    task = _visible_task(request, pk)
    form = TaskWorkForm(request.POST, request.FILES, task=task)
    if not form.is_valid():
        return _task_page(request, task, form, status=400)
    data = form.cleaned_data
    work = {"ticked": data.get("ticked", []), "output_text": data["output_text"], "files": data["files"],
            "note": data["note"]}
    if task.step.is_decision:
        answered = data["decision"] == Task.Decision.YES or data["reason"].strip()  # else the engine says why
        if answered and decisions.needs_confirmation(task.step, data["decision"]) and not request.GET.get("confirmed"):
            # The page asks first (static/js/confirm.js does it without this round trip).
            return _task_page(request, task, form, confirm=data["decision"])

        def action():
            engine.task_decide(task=task, user=request.user, decision=data["decision"], reason=data["reason"], **work)
        success = _("Decision recorded.")
    else:
        def action():
            engine.task_complete(task=task, user=request.user, **work)
        success = _("Step completed; the run has moved on.")
    return _engine_call(request, task, action, success=success, form=form,
                        then=lambda done: _next_useful(request, done))


@login_required
@require_POST
def task_return(request, pk: int):
    """"Kembalikan": send the work back to the step before, with a reason (engine.task_return)."""
    task = _visible_task(request, pk)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        return _task_page(request, task, status=400, return_form=form)
    earlier = engine.return_target(task, selectors.earlier_work(task)[0])
    success = _("The work went back to step %(nomor)s (%(position)s).") % {
        "nomor": earlier.step.nomor if earlier else "?", "position": earlier.position.name if earlier else "?"}
    return _engine_call(request, task, lambda: engine.task_return(task=task, user=request.user,
                                                                  reason=form.cleaned_data["reason"]),
                        success=success, return_form=form, then=lambda done: reverse("run-detail", args=[done.run_id]))


@login_required
@require_POST
def task_reassign(request, pk: int):
    """A head gives the open task to a named holder of its position (engine.task_reassign)."""
    task = _visible_task(request, pk)
    to_user = selectors.holder_of(task.position, request.POST.get("to_user", ""))
    if to_user is None:
        messages.error(request, _("Choose a holder of %(position)s.") % {"position": task.position.name})
        return _task_page(request, task, status=400)
    return _engine_call(request, task, lambda: engine.task_reassign(task=task, user=request.user, to_user=to_user),
                        success=_("The task is now with %(name)s.") % {"name": permissions.display_name(to_user)})


def _run_page(request, run, cancel_form: CancelRunForm | None = None, status: int = 200):
    columns, steps, states, open_tasks = selectors.run_steps(run)
    sheet = flowchart.sheet_from(columns, steps, total=run.revision.printed_total,
                                 total_note=flowchart.total_note(run.revision),
                                 independent=run.revision.kegiatan_terpisah)
    return render(request, "procedures/run_detail.html", {
        "flowchart": flowchart.web_drawing(sheet, states={step.nomor: step.state for step in steps}),
        "run": run,
        "timeline": timeline.run_timeline(run),
        "columns": columns,
        "steps": steps,
        "states": states,
        "open_tasks": open_tasks,
        "can_cancel": run.status == run.Status.RUNNING and selectors.run_may_cancel(
            run, request.user, selectors.request_standing(request), columns, steps),
        "cancel_form": cancel_form or CancelRunForm(),
    }, status=status)


@login_required
def task_file(request, pk: int):
    """An output file through the app, never from a guessable public folder: images and PDFs open
    in the browser, anything else downloads."""
    task_file = selectors.visible_task_file(request.user, pk, selectors.request_standing(request))
    try:
        handle = task_file.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Missing(_("The file is no longer in the storage.")) from None
    shown_as = uploads.inline_type(task_file.name)
    if shown_as:
        # An image or a PDF opens in the browser, with its fixed type (never HTML or SVG).
        return FileResponse(handle, as_attachment=False, filename=task_file.name, content_type=shown_as)
    return FileResponse(handle, as_attachment=True, filename=task_file.name, content_type="application/octet-stream")


@login_required
def run_detail(request, pk: int):
    return _run_page(request, _visible_run(request, pk))


@login_required
@require_POST
def run_cancel(request, pk: int):
    run = _visible_run(request, pk)
    form = CancelRunForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the run is cancelled."))
        return _run_page(request, run, form, status=400)
    try:
        engine.run_cancel(run=run, user=request.user, reason=form.cleaned_data["reason"])
    except engine.EngineError as error:
        messages.error(request, error.message)
        return _run_page(request, _visible_run(request, pk), form, status=_refusal_status(error))
    messages.success(request, _("The run was cancelled."))
    return redirect("run-detail", pk=run.pk)


@login_required
def run_start(request):
    standing = selectors.request_standing(request)
    revisions = selectors.startable_revisions(request.user, standing)
    # Shown, but not offered: SOPs whose first step nobody may take (an admin sees every SOP).
    blocked = readiness.start_blockers(revisions) if request.user.is_superuser else {}
    form = StartRunForm(request.POST or None, revisions=revisions,
                        blocked={pk: position.name for pk, position in blocked.items()},
                        activities=selectors.startable_activities(request.user, standing, revisions))
    if request.method == "POST" and form.is_valid():
        revision = form.cleaned_data["revision"]
        try:
            run = engine.run_start(revision=revision, user=request.user, perihal=form.cleaned_data["perihal"],
                                   step=form.cleaned_data.get("step") if revision.kegiatan_terpisah else None)
        except engine.EngineError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("The run has started."))
            first = selectors.following_task(None, run=run)
            if first is not None and permissions.act_refusal(first, request.user) is None:
                return redirect("task-detail", pk=first.pk)
            return redirect("run-detail", pk=run.pk)
    refusals = {}  # one per position: it names who can fix it
    for position in blocked.values():
        if position.pk not in refusals:
            refusals[position.pk] = permissions.unstaffed_refusal(position)
    blocked_rows = [(revision, refusals[blocked[revision.pk].pk]) for revision in revisions if revision.pk in blocked]
    return render(request, "procedures/run_start.html", {"form": form, "revisions": revisions, "blocked": blocked_rows},
                  status=400 if form.errors else 200)
