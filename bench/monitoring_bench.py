"""Monev at size: the monitoring page of one office over the current semester, its XLSX export and
the monitoring sheet's PDF (docs/monitoring.md, docs/performance.md)."""

from __future__ import annotations

import statistics
import time

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from procedures.models import Office, Run

URL = "/pemantauan/"
EXPORT_URL = "/pemantauan/unduh/langkah.xlsx"
P95_GOAL_MS = 150.0
EXPORT_GOAL_S = 5.0
PDF_GOAL_S = 1.0


def _client(user_id: int) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(pk=user_id))
    return client


def monitoring_queries(head_id: int) -> tuple[int, list[dict]]:
    """The SQL statements of the monitoring page (after a warm-up request): their number and them."""
    client = _client(head_id)
    client.get(URL)
    with CaptureQueriesContext(connection) as context:
        response = client.get(URL)
    if response.status_code != 200:
        raise RuntimeError(f"{URL} answered {response.status_code}")
    return len(context.captured_queries), list(context.captured_queries)


def _seconds(action, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return sorted(samples)


def monitoring_measure(head_id: int, *, requests: int = 30, repeat: int = 3) -> dict:
    """Server time of the page (p50/p95), the XLSX export and the signed-sheet PDF of the head's office."""
    from procedures import pdf
    from procedures.monitoring import sheets
    from procedures.monitoring.scope import semester_of
    from procedures.selectors import standing_of

    client = _client(head_id)
    for _ in range(3):
        client.get(URL)
    page = [seconds * 1000 for seconds in _seconds(lambda: client.get(URL), requests)]
    p95 = page[max(0, int(len(page) * 0.95) - 1)]
    export = _seconds(lambda: client.get(EXPORT_URL), repeat)
    head = get_user_model().objects.get(pk=head_id)
    office = Office.objects.get(pk=min(standing_of(head).head_offices))
    today = timezone.localdate()
    period = semester_of(today)
    sheet = sheets.sheet_prepare(office=office, period=period, user=head)
    sheet_pdf = _seconds(lambda: pdf.render_monitoring_sheet_pdf(sheet), repeat)
    runs = Run.objects.filter(office=office, started_at__date__gte=period.start).count()
    return {
        "office_runs_in_semester": runs, "semester": period.label, "today": str(today),
        "page": {"requests": requests, "p50_ms": round(statistics.median(page), 1), "p95_ms": round(p95, 1),
                 "goal_p95_ms": P95_GOAL_MS, "met": p95 <= P95_GOAL_MS},
        "xlsx": {"median_s": round(statistics.median(export), 2), "goal_s": EXPORT_GOAL_S,
                 "met": statistics.median(export) <= EXPORT_GOAL_S},
        "sheet_pdf": {"median_s": round(statistics.median(sheet_pdf), 2), "goal_s": PDF_GOAL_S,
                      "met": statistics.median(sheet_pdf) <= PDF_GOAL_S},
    }
