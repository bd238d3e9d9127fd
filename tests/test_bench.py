"""The benchmark runs at a tiny size and writes every section of its results.

The speed goals live in the benchmark (docs/performance.md), not here: this only checks that
`make bench` works. It needs the local PostgreSQL server (127.0.0.1:5432, user postgres), on
which the bench makes and drops its own database, whatever DATABASE_URL the suite runs with.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgres://postgres@127.0.0.1:5432"

pytestmark = pytest.mark.xdist_group("bench")


def _postgres_reachable() -> bool:
    try:
        import psycopg2

        psycopg2.connect(f"{SERVER}/postgres", connect_timeout=3).close()
    except Exception:
        return False
    return True


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict:
    if not _postgres_reachable():
        pytest.skip("the benchmark needs PostgreSQL on 127.0.0.1:5432")
    output = tmp_path_factory.mktemp("bench") / "results.json"
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    env = {
        **os.environ,
        "BENCH_RUNS": "50",
        "BENCH_DATABASE_URL": f"{SERVER}/sopflow_bench_test_{worker}_{uuid.uuid4().hex[:8]}",
        "BENCH_RESULTS": str(output),
        "BENCH_DEBUG": "1",
        "BENCH_TIMING_REQUESTS": "5",
        "BENCH_ENGINE_RUNS": "2",
        "BENCH_ENGINE_WARMUP": "1",
        "BENCH_HTTP_WORKERS": "2",
        "BENCH_HTTP_CLIENTS": "2",
        "BENCH_HTTP_RUNS": "2",
        "BENCH_HTTP_OFFICES": "1",
        "BENCH_PDF_REPEAT": "1",
        "BENCH_PDF_STEPS": "12",
        "BENCH_IMPORT_FILES": "5",
        "BENCH_MONITORING_REQUESTS": "3",
    }
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    completed = subprocess.run([sys.executable, "-m", "bench.run"], cwd=ROOT, env=env, capture_output=True,
                               text=True, timeout=300)
    assert output.exists(), completed.stdout + completed.stderr
    data = json.loads(output.read_text())
    assert completed.returncode == 0, data.get("error") or completed.stderr
    return data


def test_it_writes_the_machine_and_the_sizes(results):
    assert {"cpu", "cores", "ram_gb", "postgresql", "python", "django"} <= set(results["machine"])
    assert results["sizes"] == [10, 50]
    assert results["date"]


def test_it_grows_the_data_step_by_step(results):
    assert results["data"]["10"]["runs"] == 10
    assert results["data"]["50"]["runs"] == 50
    assert results["data"]["50"]["tasks"] > results["data"]["10"]["tasks"]
    assert results["data"]["50"]["events"] > results["data"]["50"]["tasks"]


def test_it_counts_queries_of_every_page_at_every_size(results):
    for size in ("10", "50"):
        assert set(results["queries"]["by_size"][size]) == {"inbox", "task", "run", "run_list", "overdue", "monitoring"}
    assert results["queries"]["size_dependent"] == []


def test_it_times_the_pages_and_explains_their_queries(results):
    for page in ("inbox", "run_list"):
        assert results["server_time"][page]["p95_ms"] > 0
        assert {"goal_p95_ms", "met"} <= set(results["server_time"][page])
    assert results["explain"]["inbox"]["slowest"][0]["key_lines"]


def test_it_measures_the_engine(results):
    engine = results["engine"]
    assert engine["completion_statements"] > 0
    assert engine["ratio"] > 0
    assert engine["completions"] == 12 + 7  # one run to step 12, one ending at step 7


def test_it_measures_the_engine_on_the_fresh_database_as_the_peer_comparison_does(results):
    fresh = results["engine_fresh"]
    assert fresh["completions"] == 12 + 7 and fresh["warmup_runs"] == 1
    assert fresh["tasks_per_second"] > 0 and fresh["ratio"] > 0
    assert {"goal_ratio", "ratio_met", "load_average", "statements_per_completion"} <= set(fresh)


def test_it_completes_tasks_over_http_without_losing_any(results):
    http = results["http"]
    assert http["completions"] == 12 + 7
    assert http["transitions"]["lost"] == 0
    assert http["transitions"]["doubled"] == 0
    assert http["memory"]["peak_rss_mb"] > 0


def test_it_renders_sheets_and_imports_files(results):
    assert "available" in results["pdf"]
    assert results["import"]["files"] == 5
    assert results["import"]["refused"] == 0


def test_every_figure_has_a_goal(results):
    assert results["goals"]
    assert all({"figure", "value", "goal", "met"} <= set(row) for row in results["goals"])


def test_it_measures_monitoring(results):
    monitoring = results["monitoring"]
    assert monitoring["page"]["requests"] == 3
    assert {"xlsx", "sheet_pdf"} <= set(monitoring)
    assert "monitoring" in results["queries"]["by_size"][str(results["sizes"][-1])]
