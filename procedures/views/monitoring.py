"""Pemantauan: the monitoring figures of the offices a user may see, with charts and exports.

Who sees what is ``procedures.monitoring.scope``; the figures are ``procedures.monitoring.figures``.
The page is a GET form: dates that make no sense come back as a form error (400), an SOP, position,
person or office outside the user's scope as the 403 page.
"""

from __future__ import annotations

from collections import defaultdict

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from procedures import selectors
from procedures.monitoring import charts
from procedures.monitoring.figures import monitoring_report
from procedures.monitoring.scope import MonitoringFilterForm, monitoring_scope, today_for
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
    return render(request, "procedures/monitoring/page.html", {
        "form": form, "scope": form.scope, "report": report, "filters": filters, "tables": tables,
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
