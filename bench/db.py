"""The benchmark's own PostgreSQL database: created before a run, dropped after it."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/sopflow_bench"


def bench_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL


def _split(url: str) -> tuple[str, str]:
    """The database name and a URL of the maintenance database on the same server."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name:
        raise ValueError(f"BENCH_DATABASE_URL names no database: {url}")
    return name, urlunsplit(parts._replace(path="/postgres"))


def _admin_connection(url: str):
    connection = psycopg2.connect(url)
    connection.autocommit = True
    return connection


def database_recreate(url: str) -> None:
    """Drop the benchmark database if a previous run left it, and create it empty."""
    name, admin = _split(url)
    connection = _admin_connection(admin)
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    connection.close()


def database_drop(url: str) -> None:
    name, admin = _split(url)
    connection = _admin_connection(admin)
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    connection.close()
