"""gunicorn settings for sopflow: `gunicorn -c sopflow/gunicorn.conf.py sopflow.wsgi`.

Every value can be changed from the environment (names below) or on the command line, which
wins over this file (e.g. `--workers 4 --bind 127.0.0.1:8001`). docs/deploy.md explains them.
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


wsgi_app = "sopflow.wsgi:application"

# Behind nginx on the same host; a load balancer on another host needs GUNICORN_BIND=0.0.0.0:8000
# (and FORWARDED_ALLOW_IPS, which gunicorn reads itself, set to its address).
bind = [address.strip() for address in os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",") if address.strip()]

# Synchronous workers: a request is a few queries and some template rendering, so the classic
# 2 × CPU + 1 keeps the CPUs busy while some workers wait on PostgreSQL.
workers = _int("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count() + 1)
threads = _int("GUNICORN_THREADS", 1)

# A PDF sheet of 100 steps takes up to two seconds and an SOP import of many files in the
# admin can take tens: a minute before a stuck worker is killed and replaced.
timeout = _int("GUNICORN_TIMEOUT", 60)
# On restart, requests under way get this long to finish.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# nginx keeps connections to gunicorn open between requests; a little longer than its idle time.
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Replace a worker after this many requests (0: never), with jitter so they do not all go at once.
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", max(max_requests // 10, 0))

# Load Django once in the master and fork the workers from it: they start at once and share the
# memory of the code. A code upgrade therefore needs a restart, not a reload (HUP).
preload_app = os.environ.get("GUNICORN_PRELOAD", "1").strip().lower() in {"1", "true", "yes", "on"}

# One line per request on stdout (journald keeps it under systemd); GUNICORN_ACCESS_LOG= (empty)
# turns it off. The client's address is the proxy's; X-Forwarded-For shows the real one.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
access_log_format = '%(h)s "%({x-forwarded-for}i)s" %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# Workers' heartbeat files in memory rather than on a disk that may stall (as gunicorn advises).
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# gunicorn's control socket (for `gunicornc`) defaults to one path per user, which two instances on
# one machine would fight over: off unless GUNICORN_CONTROL_SOCKET names a path.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True
