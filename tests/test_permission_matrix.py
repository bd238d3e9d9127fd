"""The permission matrix: every URL pattern of the site (the admin's included) × concrete objects of
two offices × every kind of user × GET / POST with a CSRF token / POST without one.

What each cell must answer is not listed by hand: tests/permission_rules.py derives it from the
rules — who may see and do what (procedures.permissions: standing, act_refusal, is_head,
head_standing, may_cancel_run, start_refusal), what the engine refuses in which state, and the
admin's permission model (Django's view/add/change/delete permissions narrowed by ADMIN_POLICY:
history is never edited). Every pattern the URL resolver knows must have a rule there; a new URL
without one fails ``test_every_url_pattern_has_an_expectation``, so whoever adds a URL states who
may use it.

Each cell runs in a savepoint rolled back after the request, so a POST that succeeds changes
nothing for the next cell; the world (tests/matrix_world.py) is built once for the module. A cell
checks the status, the redirect target, and whether the request wrote to the database: a refusal
must write nothing, a success must write. Nobody gets a success the rules refuse, nobody who may
is refused, nothing is a 500, and a POST without a token always gets the CSRF 403 page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from http.cookies import SimpleCookie

import pytest
from django.conf import settings as django_settings
from django.contrib import admin
from django.db import connection, transaction
from django.test import Client
from django.utils import translation
from django.utils.crypto import get_random_string
from django.utils.html import escape

from tests import matrix_world
from tests.engine_fixtures import built_for_module
from tests.matrix_world import World
from tests.permission_rules import ADMIN_POLICY, CASES, CSRF_REFUSAL, RULES, Cell, Expect, url_patterns, who_is

pytestmark = [
    pytest.mark.django_db,
    # The rules do not depend on the database: the matrix runs once, on SQLite (issue 11), where a
    # request costs a third of what it costs against a PostgreSQL server.
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the permission matrix runs on SQLite"),
]

METHODS = ("GET", "POST", "POST without token")
CSRF_TOKEN = get_random_string(32)

# Cells where the site is known to be wrong, each with the issue that will fix it. strict: once the
# defect is fixed the test says so, and the entry must go.
KNOWN_DEFECTS: dict[tuple[str, str], str] = {}


def test_every_url_pattern_has_an_expectation():
    patterns = url_patterns()
    without = [f"{pattern.route} ({pattern.key})" for pattern in patterns if pattern.key not in RULES]
    assert not without, (
        "URL patterns without a rule in tests/permission_rules.py (state who may use them: "
        "SITE_RULES, ADMIN_RULES, or ADMIN_POLICY for a model registered in the admin):\n  " + "\n  ".join(without))
    keys = [pattern.key for pattern in patterns]
    assert len(keys) == len(set(keys)), "two patterns share a key"
    stale = sorted(set(RULES) - set(keys))
    assert not stale, f"rules for URL patterns that no longer exist: {stale}"
    unregistered = [model.__name__ for model in ADMIN_POLICY if model not in admin.site._registry]
    assert not unregistered, f"ADMIN_POLICY names models the admin does not register: {unregistered}"


def test_no_view_is_exempt_from_csrf():
    exempt = [pattern.route for pattern in url_patterns() if getattr(pattern.callback, "csrf_exempt", False)]
    assert not exempt


# ---------------------------------------------------------------------------------------------
# Running the cells
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The world and what the rules say of each person, built once for the module."""

    def build() -> World:
        built = matrix_world.build_world(tmp_path_factory.mktemp("matrix-media"))
        with translation.override("en"):
            built.who = {label: who_is(built, label) for label in built.people}
        return built

    yield from built_for_module(django_db_blocker, build)


@pytest.fixture
def _media_root(settings, world):
    """The world's uploaded files (overrides the suite's per-test folder)."""
    settings.MEDIA_ROOT = world.media_root


@pytest.fixture(autouse=True)
def _fast_pdfs(monkeypatch):
    """The PDFs' permissions are the matrix's business, their rendering tests/test_pdf*.py's."""
    from procedures import pdf

    monkeypatch.setattr(pdf, "render_sop_pdf", lambda revision, paper=None, orientation=None: b"%PDF-1.4 sheet")
    monkeypatch.setattr(pdf, "render_run_pdf", lambda run: b"%PDF-1.4 report")
    monkeypatch.setattr(pdf, "render_monitoring_sheet_pdf", lambda sheet: b"%PDF-1.4 monitoring sheet")


WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
UNCOUNTED_TABLES = {"django_session"}  # signing out deletes the session; that is no change of data


@dataclass
class Answer:
    status: int
    location: str | None
    writes: list[str]
    csrf_page: bool
    error: str | None

    def __str__(self) -> str:
        where = f" to {self.location}" if self.location else ""
        writes = f", wrote {sorted(set(self.writes))}" if self.writes else ", wrote nothing"
        return f"{self.status}{where}{writes}{f' ({self.error})' if self.error else ''}"


def csrf_message() -> str:
    with translation.override(django_settings.LANGUAGE_CODE):
        return escape(translation.gettext(
            "The form had expired, or the browser refused cookies. Go back, reload the page and send it again."))


def ask(client: Client, person: matrix_world.Person, method: str, cell: Cell) -> Answer:
    """One request in a savepoint rolled back afterwards, noting the statements that write."""
    client.cookies = SimpleCookie()
    client.cookies[django_settings.CSRF_COOKIE_NAME] = CSRF_TOKEN
    if person.session_key:
        client.cookies[django_settings.SESSION_COOKIE_NAME] = person.session_key
    writes: list[str] = []

    def note_writes(execute, sql, params, many, context):
        match = WRITE.match(sql)
        if match and match.group(1) not in UNCOUNTED_TABLES:
            writes.append(match.group(1))
        return execute(sql, params, many, context)

    data = dict(cell.data)
    for key, value in data.items():
        if hasattr(value, "seek"):
            value.seek(0)
    with transaction.atomic():
        with connection.execute_wrapper(note_writes):
            if method == "GET":
                response = client.get(cell.path)
            elif method == "POST":
                response = client.post(cell.path, {**data, "csrfmiddlewaretoken": CSRF_TOKEN})
            else:
                response = client.post(cell.path, data)
        transaction.set_rollback(True)
    error = None
    if getattr(response, "exc_info", None):
        error = f"{response.exc_info[0].__name__}: {response.exc_info[1]}"
    content = b"" if response.streaming else response.content
    return Answer(response.status_code, response.get("Location"), writes,
                  response.status_code == 403 and csrf_message().encode() in content, error)


def mismatch(expect: Expect, answer: Answer) -> bool:
    if answer.status not in expect.statuses:
        return True
    if expect.location is not None and not (answer.location or "").startswith(expect.location):
        return True
    if expect.wrote is not None and bool(answer.writes) != expect.wrote:
        return True
    return expect.csrf_page and not answer.csrf_page


@pytest.mark.parametrize(("key", "label"), [
    pytest.param(key, label, id=f"{key}[{label}]",
                 marks=[pytest.mark.xfail(strict=True, reason=KNOWN_DEFECTS[key, label])]
                 if (key, label) in KNOWN_DEFECTS else [])
    for key, label in CASES
])
def test_matrix(world, _media_root, key, label):
    rule = RULES[key]
    cell = rule.cell(world, label)
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    wrong = []
    with translation.override("en"):
        for person in world.people.values():
            who = world.who[person.label]
            for method in METHODS:
                if label != rule.objects[0] and (method == "POST without token" or method == "GET" and rule.get_once):
                    continue  # the same request whatever the object (the token is checked before the view)
                expect = CSRF_REFUSAL if method == "POST without token" else rule.expect(world, who, label, method, cell)
                answer = ask(client, person, method, cell)
                if mismatch(expect, answer):
                    wrong.append(f"{method} {cell.path} as {person.label}: expected {expect}, got {answer}")
    assert not wrong, f"{len(wrong)} wrong answers:\n" + "\n".join(wrong)
