"""Pemantauan: the monitoring figures of the offices a user may see, with charts and exports.

Who sees what is ``procedures.monitoring.scope``; the figures are ``procedures.monitoring.figures``.
The page is a GET form: dates that make no sense come back as a form error (400), an SOP, position,
person or office outside the user's scope as the 403 page.
"""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from procedures import engine, pdf, selectors
from procedures.models import MonitoringSheet, MonitoringSheetRow, Office
from procedures.monitoring import charts, sheets
from procedures.monitoring.figures import monitoring_report
from procedures.monitoring.scope import MonitoringFilterForm, monitoring_scope, semesters_until, today_for
from procedures.monitoring.tables import report_tables, table_csv, table_xlsx

# One chart per SOP, for this many SOPs at most (more: filter by SOP).
CHARTED_SOPS = 6
FORMATS = {
    "csv": ("text/csv; charset=utf-8", table_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", table_xlsx),
}


def _form(request) -> MonitoringFilterForm:
    scope = monitoring_scope(request.user, selectors.request_standing(request))
    return MonitoringFilterForm(request.GET, today=today_for(scope.office_ids), scope=scope)


@login_required
@require_safe
def monitoring(request):
    """The monitoring page: filters, tables (each exportable), the charts beside their tables."""
    form = _form(request)
    if not form.is_valid():
        return render(request, "procedures/monitoring/page.html", {"form": form, "scope": form.scope}, status=400)
    filters = form.filters(request.user)
    report = monitoring_report(filters)
    tables = report_tables(report)
    by_sop = defaultdict(list)
    for row in report.steps:
        by_sop[(row.sop_id, row.sop_name)].append(row)
    step_charts = [
        {"name": name, "svg": charts.step_chart(name, rows), "rows": rows}
        for (_pk, name), rows in list(by_sop.items())[:CHARTED_SOPS]
    ]
    flow = None
    if filters.sop is not None:
        flow = charts.bottleneck_flowchart(filters.sop, [row for row in report.steps if row.sop_id == filters.sop.pk])
    return render(request, "procedures/monitoring/page.html", {
        "form": form, "scope": form.scope, "report": report, "filters": filters, "tables": tables, "flowchart": flow,
        "step_charts": step_charts, "trend_chart": charts.trend_chart(report.weeks) if report.weeks else None,
        "query": request.GET.urlencode(),
    })


@login_required
@require_safe
def monitoring_export(request, table: str, fmt: str):
    """One table of the page as CSV or XLSX, with the filters in its header rows."""
    if fmt not in FORMATS:
        raise Http404
    form = _form(request)
    if not form.is_valid():
        return render(request, "procedures/monitoring/page.html", {"form": form, "scope": form.scope}, status=400)
    filters = form.filters(request.user)
    tables = report_tables(monitoring_report(filters))
    if table not in tables:
        raise Http404
    content_type, write = FORMATS[fmt]
    response = HttpResponse(write(tables[table], filters.header_rows()), content_type=content_type)
    name = f"pemantauan-{table}-{filters.period.start:%Y%m%d}-{filters.period.end:%Y%m%d}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# ---------------------------------------------------------------------------------------------
# The Formulir Monitoring Pelaksanaan SOP (procedures.monitoring.sheets)
# ---------------------------------------------------------------------------------------------

ENGINE_STATUS = {engine.NotAllowed: 403, engine.Conflict: 409, engine.InvalidInput: 400}


def _office_scope(request):
    """The user's scope when it covers offices (heads, monev, admins); 403 for someone who sees only their own."""
    scope = monitoring_scope(request.user, selectors.request_standing(request))
    if scope.own_only:
        raise PermissionDenied(_("The monitoring sheets are for the heads of an office and for monev staff."))
    return scope


def _visible_sheet(request, pk: int) -> MonitoringSheet:
    sheet = get_object_or_404(MonitoringSheet.objects.select_related("office", "supersedes"), pk=pk)
    scope = monitoring_scope(request.user, selectors.request_standing(request))
    if scope.own_only or sheet.office_id not in scope.office_ids:
        raise PermissionDenied(_("This monitoring sheet belongs to an office whose figures you do not see."))
    return sheet


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def monitoring_sheets(request):
    """The monitoring sheets of my offices; POST prepares (or opens) the draft of an office and period."""
    scope = _office_scope(request)
    today = today_for(scope.office_ids)
    head_offices = [office for office in Office.objects.filter(pk__in=scope.office_ids).order_by("name")
                    if sheets.head_title(request.user, office)]
    if request.method == "POST":
        office = next((o for o in head_offices if str(o.pk) == request.POST.get("office", "")), None)
        key = request.POST.get("periode", "")
        periods = {period.key: period for period in semesters_until(today)}
        if office is None:
            messages.error(request, _("Choose an office of which you are a head."))
        elif key not in periods:
            messages.error(request, _("Choose a semester from the list."))
        else:
            try:
                sheet = sheets.sheet_prepare(office=office, period=periods[key], user=request.user,
                                             kind=request.POST.get("kind") or MonitoringSheet.Kind.MONITORING)
            except engine.EngineError as error:
                messages.error(request, error.message)
                return redirect("monitoring-sheets")
            return redirect("monitoring-sheet", pk=sheet.pk)
        return redirect("monitoring-sheets")
    return render(request, "procedures/monitoring/sheets.html", {
        "sheets": MonitoringSheet.objects.filter(office_id__in=scope.office_ids).select_related("office")[:200],
        "head_offices": head_offices, "periods": semesters_until(today), "kinds": MonitoringSheet.Kind.choices,
    })


def _row_input(request, sheet: MonitoringSheet) -> dict[int, dict[str, str]]:
    if sheet.kind == MonitoringSheet.Kind.EVALUATION:
        names = [name for key, _label in sheets.CRITERIA for name in (key, f"{key}-catatan")]
        return {row.pk: {**{name: request.POST.get(f"r{row.pk}-{name}", "") for name in names},
                         "perlu_revisi": request.POST.get(f"r{row.pk}-perlu_revisi", ""),
                         "catatan": request.POST.get(f"r{row.pk}-catatan", "")}
                for row in sheet.rows.all()}
    return {
        row.pk: {name: request.POST.get(f"r{row.pk}-{name}", "") for name in ("assessment", "tindakan", "catatan")}
        for row in sheet.rows.all()
    }


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def monitoring_sheet(request, pk: int):
    """A monitoring sheet; its office's head saves and signs it (POST ``action=save|sign``)."""
    sheet = _visible_sheet(request, pk)
    status, notice = 200, ""
    if request.method == "POST":
        try:
            sheets.sheet_save(sheet=sheet, user=request.user, rows=_row_input(request, sheet))
            if request.POST.get("action") == "sign":
                sheets.sheet_sign(sheet=sheet, user=request.user)
                messages.success(request, _("The monitoring sheet is signed and locked."))
            else:
                messages.success(request, _("Saved."))
            return redirect("monitoring-sheet", pk=sheet.pk)
        except engine.EngineError as error:
            status, notice = ENGINE_STATUS.get(type(error), 400), error.message
        sheet = _visible_sheet(request, pk)
    is_head = sheets.head_title(request.user, sheet.office) is not None
    return render(request, "procedures/monitoring/sheet.html", {
        "sheet": sheet, "rows": sheets.sheet_rows(sheet, request.user), "editable": is_head and not sheet.is_signed,
        "may_supersede": is_head and sheet.is_signed and not hasattr(sheet, "superseded_by"),
        "events": sheet.events.select_related("actor"), "notice": notice,
        "assessments": MonitoringSheetRow.Assessment.choices, "criteria": sheets.CRITERIA,
    }, status=status)


@login_required
@require_POST
def monitoring_sheet_supersede(request, pk: int):
    """A head replaces a signed sheet by a new draft, with a reason."""
    sheet = _visible_sheet(request, pk)
    try:
        new = sheets.sheet_supersede(sheet=sheet, user=request.user, reason=request.POST.get("reason", ""))
    except engine.EngineError as error:
        return render(request, "procedures/monitoring/sheet.html", {
            "sheet": sheet, "rows": sheets.sheet_rows(sheet, request.user), "editable": False, "may_supersede": False,
            "events": sheet.events.select_related("actor"), "notice": error.message,
            "assessments": MonitoringSheetRow.Assessment.choices, "criteria": sheets.CRITERIA,
        }, status=ENGINE_STATUS.get(type(error), 400))
    messages.success(request, _("A new draft supersedes the signed sheet."))
    return redirect("monitoring-sheet", pk=new.pk)


@login_required
@require_safe
def monitoring_sheet_pdf(request, pk: int):
    """The sheet as PDF in the sheet's style (kop, landscape table, signature block)."""
    sheet = _visible_sheet(request, pk)
    response = HttpResponse(pdf.render_monitoring_sheet_pdf(sheet), content_type="application/pdf")
    name = "Evaluasi" if sheet.kind == MonitoringSheet.Kind.EVALUATION else "Monitoring"
    response["Content-Disposition"] = f'inline; filename="Formulir-{name}-{sheet.pk}.pdf"'
    return response
