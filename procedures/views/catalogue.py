"""The run list of an office and the SOP catalogue."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import Http404
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from procedures import selectors
from procedures.authoring import drafts
from procedures.models import Run, Sop

RUNS_PER_PAGE = 25


# Dates a run list can be filtered by: the calendar's ends (year 1, year 9999) cannot be turned into
# the moments a day starts and ends in every office's zone.
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2999, 12, 31)
DATE_RANGE = [
    MinValueValidator(FIRST_DAY, message=_("Choose a date from 1900 to 2999.")),
    MaxValueValidator(LAST_DAY, message=_("Choose a date from 1900 to 2999.")),
]
DATE_ATTRS = {"type": "date", "min": FIRST_DAY.isoformat(), "max": LAST_DAY.isoformat()}


class RunFilterForm(forms.Form):
    """The run list's filters, sent by GET so that a filtered page can be bookmarked."""

    sop = forms.TypedChoiceField(label=_("SOP"), required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("Any status")), *Run.Status.choices])
    started_from = forms.DateField(label=_("Started from"), required=False, validators=DATE_RANGE,
                                   widget=forms.DateInput(attrs=DATE_ATTRS, format="%Y-%m-%d"))
    started_until = forms.DateField(label=_("Started until"), required=False, validators=DATE_RANGE,
                                    widget=forms.DateInput(attrs=DATE_ATTRS, format="%Y-%m-%d"))
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args, sops: list[Sop], **kwargs):
        super().__init__(*args, **kwargs)
        offices = {sop.office_id for sop in sops}
        self.fields["sop"].choices = [("", _("All SOPs"))] + [
            (sop.pk, sop.latest_revision.nama if len(offices) == 1 else f"{sop.latest_revision.nama} — {sop.office.name}")
            for sop in sops
        ]
        # Rendered by templates/procedures/catalogue/run_filters.html, not crispy-forms: the run
        # list is the page people reload most, and the layout engine cost a third of its time.
        for name, field in self.fields.items():
            css = "form-check-input" if name == "overdue" else "form-select" if name in ("sop", "status") else "form-control"
            field.widget.attrs["class"] = css

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("started_from"), data.get("started_until")
        if start and end and end < start:
            self.add_error("started_until", _("The end is before the start."))
        return data

    def filters(self) -> dict:
        """The valid filters; an invalid field (a mistyped date) filters nothing and shows its error."""
        if not self.is_bound:
            return {}
        self.is_valid()
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["class"] += " is-invalid"
        data = self.cleaned_data
        return {
            "sop_id": data.get("sop"),
            "status": data.get("status") or "",
            "overdue": bool(data.get("overdue")),
            "started_from": data.get("started_from"),
            "started_until": data.get("started_until"),
        }


@login_required
def run_list(request):
    standing = selectors.request_standing(request)
    sops = selectors.visible_sops(request.user, standing)
    form = RunFilterForm(request.GET or None, sops=sops)
    filters = form.filters()
    runs = selectors.filter_runs(selectors.visible_runs(request.user, standing), **filters)
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "procedures/catalogue/run_list.html", {
        "form": form,
        "page": page,
        "page_numbers": page.paginator.get_elided_page_range(page.number, on_each_side=3, on_ends=2),
        "filtered": any(filters.values()),
    })


@login_required
def sop_list(request):
    standing = selectors.request_standing(request)
    sops = selectors.visible_sops(request.user, standing, as_editor=True)
    editor_offices = drafts.editor_office_ids(request.user)
    return render(request, "procedures/catalogue/sop_list.html", {
        "sops": sops,
        "several_offices": len({sop.office_id for sop in sops}) > 1,
        # The SOP editor's buttons (Buat SOP, Ubah, Salin): None = every office (an admin).
        "is_sop_editor": editor_offices is None or bool(editor_offices),
        "editable_offices": editor_offices,
    })


def _pdf_url(sop: Sop, number: int | None) -> str | None:
    """The sheet's PDF, once a route named "sop-pdf" exists."""
    try:
        url = reverse("sop-pdf", args=[sop.kode])
    except NoReverseMatch:
        return None
    return f"{url}?revisi={number}" if number is not None else url


@login_required
def sop_detail(request, kode: str):
    standing = selectors.request_standing(request)
    sop = selectors.visible_sop(request.user, standing, kode)
    revisions = sorted(sop.revisions.all(), key=lambda revision: revision.number, reverse=True)
    latest = revisions[0] if revisions else None
    wanted = request.GET.get("revisi")
    if wanted:
        revision = next((r for r in revisions if str(r.number) == wanted.strip()), None)
    else:
        revision = latest
    if revision is None:
        raise Http404
    columns, steps = selectors.sop_sheet(revision)
    is_latest = revision == latest
    lists = [
        (_("Legal basis"), revision.dasar_hukum),
        (_("Implementer qualifications"), revision.kualifikasi_pelaksana),
        (_("Related SOPs"), revision.keterkaitan),
        (_("Equipment"), revision.peralatan),
        (_("Warnings"), revision.peringatan),
        (_("Records"), revision.pencatatan),
    ]
    # Independent activities: whoever may do any of them may start a run (of that one).
    firsts = steps if revision.kegiatan_terpisah else steps[:1]
    can_start = is_latest and bool(steps) and (
        request.user.is_superuser or any(step.column.position_id in standing.position_ids for step in firsts))
    return render(request, "procedures/catalogue/sop_detail.html", {
        "sop": sop,
        "revision": revision,
        "revisions": revisions,
        "is_latest": is_latest,
        "columns": columns,
        "steps": steps,
        "lists": lists,
        "has_lists": any(items for _title, items in lists),
        "pdf_url": _pdf_url(sop, None if is_latest else revision.number),
        "can_start": can_start,
        # The transcriber's notes are for admins (a Kasubag, the superuser), not for those who run the SOP.
        "show_transcription": request.user.is_staff and (
            bool(revision.catatan_transkripsi) or any(step.catatan_transkripsi for step in steps)),
    })
