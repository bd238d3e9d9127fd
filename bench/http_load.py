"""Task completions over HTTP: gunicorn on the bench database, clients that sign in and post the
real task form, then a count of lost or doubled transitions from the database.

Each client is a thread with one keep-alive connection. It takes a run of the Patroli flow, asks
the database which task is open in it (the only out-of-band step: a person would click it in the
inbox), GETs the task page as a holder of the task's position, reads the form (CSRF token, the
kelengkapan checkboxes, the Ya/Tidak buttons) and POSTs it as a browser does (multipart), until
the run has ended; half the runs escalate to step 12, half end with Tidak at step 7.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import psycopg2
from django.db.models import Count

from bench.data import PASSWORD, PATROLI, ROOT, office_name, username
from bench.engine_bench import Patroli
from procedures.models import Event, Position, Run, Task

COMPLETIONS_GOAL = 300.0
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TICKED = re.compile(r'<input[^>]*name="ticked"[^>]*value="(\d+)"|<input[^>]*value="(\d+)"[^>]*name="ticked"')
COMPLETE_ACTION = re.compile(r'action="(/tugas/\d+/selesaikan/)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_start(*, database_url: str, static_root: str, workers: int, port: int, log: Path,
                   env: dict[str, str] | None = None) -> subprocess.Popen:
    """gunicorn with the production settings (DEBUG off but in the tiny test run) on the bench database.

    ``env`` adds to or overrides the environment given to gunicorn (the fault test's SECRET_KEY).
    """
    env = {
        **os.environ,
        "DEBUG": os.environ.get("DEBUG", "0"), "SOPFLOW_HTTPS": "0", "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1", "DATABASE_URL": database_url, "STATIC_ROOT": static_root,
        "GUNICORN_ACCESS_LOG": "", "GUNICORN_LOG_LEVEL": "warning",
        **(env or {}),
    }
    command = [str(Path(sys.executable).with_name("gunicorn"))]
    config = ROOT / "sopflow" / "gunicorn.conf.py"
    if config.exists():
        command += ["-c", str(config)]
    command += ["sopflow.wsgi", "--workers", str(workers), "--bind", f"127.0.0.1:{port}"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                               start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/masuk/")
            if connection.getresponse().status == 200:
                connection.close()
                return process
        except OSError:
            pass
        time.sleep(0.2)
    gunicorn_stop(process)
    raise RuntimeError(f"gunicorn did not answer within a minute:\n{log.read_text()[-3000:]}")


def gunicorn_stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                pids.append(int(entry.name))
    return pids


def memory_kb(pid: int) -> dict[str, int]:
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmHWM:", "VmRSS:")):
                key, value = line.split(":")
                values[key] = int(value.split()[0])
    except OSError:
        pass
    return values


class Browser:
    """One signed-in person: cookies, over a connection the caller gives."""

    def __init__(self, cookies: dict[str, str]):
        self.cookies = cookies

    def header(self) -> str:
        return "; ".join(f"{key}={value}" for key, value in self.cookies.items())


def _take_cookies(response: http.client.HTTPResponse, cookies: dict[str, str]) -> None:
    for value in response.headers.get_all("Set-Cookie") or []:
        parsed = SimpleCookie()
        parsed.load(value)
        for key, morsel in parsed.items():
            cookies[key] = morsel.value


def sign_in(port: int, user: str) -> Browser:
    """The sign-in form: GET it for the CSRF token, POST the username and password."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    cookies: dict[str, str] = {}
    connection.request("GET", "/masuk/")
    response = connection.getresponse()
    page = response.read().decode()
    _take_cookies(response, cookies)
    token = CSRF.search(page).group(1)
    body = urlencode({"csrfmiddlewaretoken": token, "username": user, "password": PASSWORD})
    connection.request("POST", "/masuk/", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": Browser(cookies).header()})
    response = connection.getresponse()
    response.read()
    _take_cookies(response, cookies)
    connection.close()
    if response.status != 302 or "sessionid" not in cookies:
        raise RuntimeError(f"sign-in of {user} failed: {response.status}")
    return Browser(cookies)


def multipart(fields: list[tuple[str, str]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n')
    parts.append(f"--{boundary}--\r\n")
    return "".join(parts).encode(), f"multipart/form-data; boundary={boundary}"


class Client(threading.Thread):
    def __init__(self, *, port: int, database_url: str, queue: list, lock: threading.Lock, browsers: dict,
                 plans: dict[int, bool], deadline: float):
        super().__init__(daemon=True)
        self.port, self.database_url, self.queue, self.lock = port, database_url, queue, lock
        self.browsers, self.plans, self.deadline = browsers, plans, deadline
        self.completed, self.statuses, self.post_ms, self.requests = 0, Counter(), [], 0
        self.runs_done: list[int] = []
        self.error: BaseException | None = None

    def _request(self, connection, method, path, browser, body=None, content_type=None):
        headers = {"Cookie": browser.header()}
        if content_type:
            headers["Content-Type"] = content_type
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        self.requests += 1
        return response.status, data

    def run(self):
        try:
            self._work()
        except BaseException as error:  # reported by the caller
            self.error = error

    def _work(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        db = psycopg2.connect(self.database_url)
        db.autocommit = True
        cursor = db.cursor()
        while time.monotonic() < self.deadline:
            with self.lock:
                if not self.queue:
                    break
                run_id = self.queue.pop()
            escalate = self.plans[run_id]
            while True:
                cursor.execute("SELECT id, position_id FROM procedures_task WHERE run_id = %s "
                               "AND status IN ('menunggu', 'dikerjakan')", [run_id])
                row = cursor.fetchone()
                if row is None:
                    break
                task_id, position_id = row
                browser = self.browsers[position_id]
                status, page = self._request(connection, "GET", f"/tugas/{task_id}/", browser)
                if status != 200:
                    raise RuntimeError(f"GET /tugas/{task_id}/ answered {status}")
                page = page.decode()
                action = COMPLETE_ACTION.search(page).group(1)
                fields = [("csrfmiddlewaretoken", CSRF.search(page).group(1))]
                decision = 'name="decision"' in page
                ticked = [a or b for a, b in TICKED.findall(page)]
                if decision and not escalate:  # the first decision of Patroli is step 7
                    fields += [("reason", "Tidak ada temuan pelanggaran"), ("output_text", ""), ("note", ""),
                               ("decision", "tidak")]
                    # Tidak ends the patrol: the page asks first, and its confirmation button posts so.
                    action += "?confirmed=1"
                else:
                    fields += [("ticked", value) for value in ticked]
                    fields += [("output_text", "Terlaksana"), ("note", "")]
                    if decision:
                        fields += [("reason", ""), ("decision", "ya")]
                body, content_type = multipart(fields)
                began = time.perf_counter()
                status, _page = self._request(connection, "POST", action, browser, body, content_type)
                self.post_ms.append((time.perf_counter() - began) * 1000)
                self.statuses[status] += 1
                if status == 302:
                    self.completed += 1
                else:
                    raise RuntimeError(f"POST {action} answered {status}")
            self.runs_done.append(run_id)
        connection.close()
        db.close()


def http_measure(*, database_url: str, static_root: str, workers: int = 4, clients: int = 12,
                 runs: int = 400, seconds: float = 60.0, offices: tuple[int, ...] = (2, 3, 4, 5),
                 log: Path) -> dict:
    """Start runs in-process, serve with gunicorn, complete them over HTTP, check the database."""
    flows = [Patroli(index) for index in offices]
    plans: dict[int, bool] = {}
    for number in range(runs):
        run = flows[number % len(flows)].start(f"Bench HTTP {number}")
        plans[run.pk] = number % 2 == 0
    holders = {}
    for flow in flows:
        for position in Position.objects.filter(columns__revision=flow.revision).distinct():
            holders[position.pk] = flow.holder[position.pk].username

    port = free_port()
    process = gunicorn_start(database_url=database_url, static_root=static_root, workers=workers, port=port, log=log)
    try:
        browsers = {}
        sign_ins = [threading.Thread(target=lambda pk=pk, name=name: browsers.__setitem__(pk, sign_in(port, name)))
                    for pk, name in holders.items()]
        began = time.perf_counter()
        for thread in sign_ins:
            thread.start()
        for thread in sign_ins:
            thread.join()
        sign_in_seconds = time.perf_counter() - began
        if len(browsers) != len(holders):
            raise RuntimeError("some sign-ins failed")

        # Interleave offices and plans so that every client mixes them.
        queue = list(reversed(list(plans)))
        lock = threading.Lock()
        started = time.perf_counter()
        deadline = time.monotonic() + seconds
        threads = [Client(port=port, database_url=database_url, queue=queue, lock=lock, browsers=browsers,
                          plans=plans, deadline=deadline) for _ in range(clients)]
        for thread in threads:
            thread.start()
        peak = {}
        while any(thread.is_alive() for thread in threads):
            for pid in worker_pids(process.pid):
                rss = memory_kb(pid).get("VmRSS", 0)
                peak[pid] = max(peak.get(pid, 0), rss)
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        hwm = {pid: memory_kb(pid).get("VmHWM", 0) for pid in worker_pids(process.pid)}
    finally:
        gunicorn_stop(process)
    errors = [repr(thread.error) for thread in threads if thread.error]
    completed = sum(thread.completed for thread in threads)
    posts = sorted(ms for thread in threads for ms in thread.post_ms)
    statuses = sum((thread.statuses for thread in threads), Counter())
    done_runs = [run_id for thread in threads for run_id in thread.runs_done]
    check = transitions_check(done_runs, plans, client_completions=completed)
    rate = completed / elapsed if elapsed else 0.0
    peak_kb = max([*hwm.values(), *peak.values()], default=0)
    return {
        "workers": workers,
        "clients": clients,
        "gunicorn_config": "sopflow/gunicorn.conf.py" if (ROOT / "sopflow" / "gunicorn.conf.py").exists() else "command line",
        "sign_ins": len(browsers),
        "sign_in_seconds": round(sign_in_seconds, 2),
        "runs_finished": len(done_runs),
        "completions": completed,
        "requests": sum(thread.requests for thread in threads),
        "seconds": round(elapsed, 2),
        "completions_per_second": round(rate, 1),
        "requests_per_second": round(sum(thread.requests for thread in threads) / elapsed, 1) if elapsed else 0.0,
        "post_p50_ms": round(statistics.median(posts), 1) if posts else None,
        "post_p95_ms": round(posts[max(0, int(len(posts) * 0.95) - 1)], 1) if posts else None,
        "post_statuses": {str(key): value for key, value in statuses.items()},
        "client_errors": errors,
        "goal_completions_per_second": COMPLETIONS_GOAL,
        "met": rate >= COMPLETIONS_GOAL,
        "transitions": check,
        "memory": {
            "peak_rss_mb": round(peak_kb / 1024, 1),
            "per_worker_peak_mb": {str(pid): round(max(hwm.get(pid, 0), peak.get(pid, 0)) / 1024, 1)
                                   for pid in sorted(set(hwm) | set(peak))},
            "source": "/proc/<pid>/status VmHWM and sampled VmRSS of the gunicorn workers",
        },
    }


def transitions_check(run_ids: list[int], plans: dict[int, bool], *, client_completions: int) -> dict:
    """Expected against recorded: tasks, events per transition, run states. Must be zero off."""
    expected, recorded = Counter(), Counter()
    for run_id in run_ids:
        tasks = 12 if plans[run_id] else 7
        expected.update({"tasks": tasks, "reach": tasks, "claim": tasks, "start": 1, "finish": 1,
                         "complete": 9 if plans[run_id] else 6, "decide_ya": 3 if plans[run_id] else 0,
                         "decide_tidak": 0 if plans[run_id] else 1, "runs_finished": 1})
    for row in Event.objects.filter(run_id__in=run_ids).values("transition").annotate(count=Count("pk")):
        recorded[row["transition"]] = row["count"]
    recorded["tasks"] = Task.objects.filter(run_id__in=run_ids, status__in=(Task.Status.DONE, Task.Status.SENT_BACK)).count()
    recorded["runs_finished"] = Run.objects.filter(pk__in=run_ids, status=Run.Status.FINISHED).count()
    open_left = Task.objects.filter(run_id__in=run_ids, status__in=Task.OPEN).count()
    lost = sum(max(0, expected[key] - recorded[key]) for key in expected)
    doubled = sum(max(0, recorded[key] - expected[key]) for key in set(expected) | set(recorded))
    recorded_completions = recorded["complete"] + recorded["decide_ya"] + recorded["decide_tidak"]
    return {
        "expected": dict(expected), "recorded": dict(recorded),
        "open_tasks_left": open_left,
        "client_completions": client_completions,
        "recorded_completions": recorded_completions,
        "lost": lost + max(0, client_completions - recorded_completions),
        "doubled": doubled + max(0, recorded_completions - client_completions),
        "met": lost == 0 and doubled == 0 and open_left == 0 and client_completions == recorded_completions,
    }
