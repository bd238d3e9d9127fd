"""Pages through Django's test client: SQL queries per page, server time, and the query plans."""

from __future__ import annotations

import re
import statistics
import time
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.data import office_name, username
from procedures.models import Office, Task

PAGES = ("inbox", "task", "run", "run_list", "overdue")
QUERY_GOAL = 10
P95_GOAL_MS = 50.0


@dataclass
class Subjects:
    """Who looks at what: the head of the first office, and an open task there with its holder."""

    head_id: int
    worker_id: int
    task_id: int
    run_id: int

    def urls(self) -> dict[str, str]:
        return {
            "inbox": "/", "task": f"/tugas/{self.task_id}/", "run": f"/pelaksanaan/{self.run_id}/",
            "run_list": "/pelaksanaan/", "overdue": "/terlambat/",
        }

    def user_for(self, page: str) -> int:
        return self.worker_id if page == "task" else self.head_id


def subjects_pick() -> Subjects:
    """Chosen once at the smallest size and kept, so every size looks at the same rows."""
    User = get_user_model()
    office = Office.objects.get(name=office_name(0))
    head = User.objects.get(username=username(0, "Kasat Pol PP"))
    task = (
        Task.objects.filter(run__office=office, status=Task.Status.WAITING, previous__isnull=False)
        .select_related("position").order_by("run_id").first()
    )
    worker = task.position.holders.order_by("pk").first()
    return Subjects(head_id=head.pk, worker_id=worker.pk, task_id=task.pk, run_id=task.run_id)


def _client(user_id: int) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(pk=user_id))
    return client


def queries_per_page(subjects: Subjects) -> tuple[dict[str, int], dict[str, list[dict]]]:
    """The SQL statements each page issues (after one warm-up request), and those statements."""
    counts, captured = {}, {}
    clients = {pk: _client(pk) for pk in {subjects.head_id, subjects.worker_id}}
    for page, url in subjects.urls().items():
        client = clients[subjects.user_for(page)]
        client.get(url)  # warm-up: template loading, translations
        with CaptureQueriesContext(connection) as context:
            response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{page} {url} answered {response.status_code}")
        counts[page] = len(context.captured_queries)
        captured[page] = list(context.captured_queries)
    return counts, captured


def server_times(subjects: Subjects, *, pages=("inbox", "run_list"), requests: int = 200) -> dict[str, dict]:
    """p50/p95 in milliseconds of whole requests through the test client (middleware, view, template)."""
    result = {}
    urls = subjects.urls()
    for page in pages:
        client = _client(subjects.user_for(page))
        for _ in range(5):
            client.get(urls[page])
        samples = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(urls[page])
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        samples.sort()
        result[page] = {
            "requests": requests,
            "p50_ms": round(statistics.median(samples), 2),
            "p95_ms": round(samples[max(0, int(len(samples) * 0.95) - 1)], 2),
            "max_ms": round(samples[-1], 2),
            "goal_p95_ms": P95_GOAL_MS,
            "met": samples[max(0, int(len(samples) * 0.95) - 1)] <= P95_GOAL_MS,
        }
    return result


KEY_LINE = re.compile(r"(Scan|Join|Sort|Limit|Aggregate|Execution Time|Planning Time|Index Cond|Filter)")
# The pages with a server-time goal; the others' plans are recorded for information.
GOAL_PAGES = ("inbox", "run_list")
BIG_TABLES = ("procedures_task", "procedures_run", "procedures_event", "procedures_taskcheck")


def explain(captured: dict[str, list[dict]], *, pages=("inbox", "run_list", "overdue", "run", "task"), top: int = 3) -> dict:
    """EXPLAIN ANALYZE of each page's slowest statements on the big tables: key lines and whether
    any of them reads a big table sequentially."""
    result = {}
    with connection.cursor() as cursor:
        for page in pages:
            statements = [q for q in captured.get(page, []) if q["sql"].lstrip().upper().startswith("SELECT")
                          and any(table in q["sql"] for table in BIG_TABLES)]
            timed = []
            for query in statements:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                lines = [row[0] for row in cursor.fetchall()]
                total = next((float(line.split(":")[1].split()[0]) for line in lines if line.startswith("Execution Time")), 0.0)
                timed.append((total, query["sql"], lines))
            timed.sort(key=lambda item: -item[0])
            plans = []
            for total, sql_text, lines in timed[:top]:
                seq = [line.strip() for line in lines if "Seq Scan on" in line and any(t in line for t in BIG_TABLES)]
                plans.append({
                    "sql": sql_text[:300] + ("…" if len(sql_text) > 300 else ""),
                    "execution_ms": total,
                    "key_lines": [line.strip() for line in lines if KEY_LINE.search(line)][:14],
                    "seq_scans_on_big_tables": seq,
                })
            result[page] = {
                "goal_page": page in GOAL_PAGES,
                "statements_on_big_tables": len(statements),
                "slowest": plans,
                "index_scans_only": all(not plan["seq_scans_on_big_tables"] for plan in plans),
            }
    return result
