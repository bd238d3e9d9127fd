"""What every page of the site must hold in a browser: no sideways scroll on a phone, and no
serious or critical accessibility problem that axe-core finds (axe-playwright-python vendors it;
it is injected with ``page.evaluate``, which the Content-Security-Policy does not block)."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1366, "height": 900}

_axe = Axe()


def sideways_scroll(page) -> int | None:
    """How much wider than the screen the page is (None when it fits)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    screen = page.viewport_size["width"]
    return width - screen if width > screen else None


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each with where."""
    results = _axe.run(page)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] in ("serious", "critical"):
            targets = "; ".join(" ".join(node["target"]) for node in violation["nodes"][:4])
            found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} — {targets}")
    return found
