"""Browser tests: the real pages in Debian's Chromium, driven by Playwright, against live_server.

Every test here is marked ``browser`` and grouped on one xdist worker (``make test`` runs
``-n 2 --dist loadgroup``): one Chromium per worker is enough, and two would fight for the CPU.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from tests.engine_fixtures import Cast, build_cast

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a
# thread with a running loop unless told that it is safe (it is: the loop only drives Chromium).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts"
PASSWORD = "sopflow-demo"


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, headless; never a browser downloaded by ``playwright install``."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium package to run the browser tests"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # English pages (the msgids), whatever the machine's locale and the shipped translations.
    return {**browser_context_args, "locale": "en-US"}


@pytest.fixture
def seeded(live_server, settings) -> Cast:
    """The five seed SOPs and one demo user per position (password ``sopflow-demo``)."""
    settings.LANGUAGE_CODE = "en"
    return build_cast()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def sign_in(page, live_server, username: str) -> None:
    """Sign in through the real form at /masuk/ and land on the inbox."""
    # A page answers in well under a second here; fail in seconds, not after Playwright's 30.
    page.set_default_timeout(10_000)
    page.goto(live_server.url + "/masuk/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(live_server.url + "/")


@pytest.fixture
def as_user(page, new_context, live_server, seeded) -> Iterator[Callable[[str], object]]:
    """``as_user("kasat-pol-pp")``: that user's signed-in page, one browser context per user.

    The first user gets pytest-playwright's ``page``; each further user a context of their own,
    so that a run passes between people without signing out and in at every step.
    """
    pages: dict[str, object] = {}

    def get(username: str):
        if username not in pages:
            user_page = page if not pages else new_context().new_page()
            sign_in(user_page, live_server, username)
            pages[username] = user_page
        return pages[username]

    yield get
