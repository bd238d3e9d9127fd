"""Script in every text, in Chromium: no page runs it, every page carries the Content-Security-Policy
and breaks none of its rules, and the pages that need JavaScript (htmx, the drawn flowchart, the
admin's widgets and actions) still work under it.

The texts and pages are tests/xss_scenario.py's; tests/test_views_escaping.py checks the same
pages' HTML and the PDFs' text over the test client.
"""

from __future__ import annotations

import re
import subprocess

import pytest
from django.urls import reverse

from procedures.models import Position, Run
from tests import xss_scenario
from tests.browser.conftest import sign_in

# Before any page script: ``__xss()`` counts calls (a payload that ran), and every CSP violation
# is kept (a payload that became an element or a handler, or a page of ours breaking the policy).
WATCH = """
window.__xss = function () { window.__xssCalls = (window.__xssCalls || 0) + 1; };
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(event.violatedDirective + " " + (event.blockedURI || "inline") + " at " + location.pathname);
});
"""
REPORT = "() => new Promise(done => setTimeout(() => done([window.__xssCalls || 0, window.__violations]), 0))"
SHOWS_PAYLOAD = "() => document.documentElement.innerHTML.includes('&lt;img src=x onerror=__xss()&gt;')"


@pytest.fixture
def found(live_server, settings):
    settings.LANGUAGE_CODE = "en"
    return xss_scenario.build()


@pytest.fixture
def watched(browser, live_server, found):
    """``watched("staf")``: a page signed in as that user, watching for script and violations."""
    pages, problems = {}, []

    def get(role: str):
        if role not in pages:
            context = browser.new_context(locale="en-US")
            context.add_init_script(WATCH)
            page = context.new_page()
            page.on("dialog", lambda dialog: (problems.append(f"a dialog: {dialog.message}"), dialog.dismiss()))
            page.on("pageerror", lambda error: problems.append(f"a script error: {error}"))
            page.on("console", lambda message: "Content Security Policy" in message.text
                    and problems.append(f"console: {message.text}"))
            sign_in(page, live_server, found.users[role].username)
            pages[role] = page
        return pages[role]

    get.problems = problems
    yield get
    for page in pages.values():
        page.context.close()


def assert_clean(page, response, watched, where: str) -> None:
    assert response is not None and response.ok, f"{where}: {response and response.status}"
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("style-src")[0], where
    calls, violations = page.evaluate(REPORT)
    assert calls == 0, f"{where}: a payload ran"
    assert violations == [], f"{where}: {violations}"
    assert watched.problems == [], f"{where}: {watched.problems}"


def test_no_payload_runs_on_any_page_and_the_pages_work_under_the_policy(watched, found, live_server):
    for item in xss_scenario.pages(found):
        page = watched(item.user)
        response = page.goto(live_server.url + item.url)
        assert_clean(page, response, watched, item.name)
        assert page.evaluate(SHOWS_PAYLOAD), f"{item.name} shows no payload as text"


    check_the_drawn_flowchart(watched, found, live_server)
    check_a_refused_answer_shows_its_reason_in_place(watched, found, live_server)


def check_the_drawn_flowchart(watched, found, live_server):
    """The run page's drawing renders under the policy: sized, its symbols filled, its font loaded."""
    page = watched("kepala")
    page.set_viewport_size({"width": 1400, "height": 900})
    response = page.goto(live_server.url + reverse("run-detail", args=[found.runs["sent back"].pk]))
    assert_clean(page, response, watched, "run page")
    drawing = page.locator(".flow-drawing svg.sop-flow")
    box = drawing.bounding_box()
    assert box and box["width"] > 800 and box["height"] > 200
    assert drawing.locator("g.symbol").count() == 3
    assert drawing.locator("g.symbol[data-state]").count() == 3  # done, current, left: filled by state
    # The sheet's font from static/fonts, allowed by font-src 'self'.
    assert page.evaluate("() => document.fonts.check('12px SopSheet')")


def check_a_refused_answer_shows_its_reason_in_place(watched, found, live_server):
    """A Tolak without a reason: the approvals page's htmx handler (an hx-on attribute before the
    policy, static/js now) swaps the refused item in with the reason."""
    page = watched("kepala")
    page.goto(live_server.url + reverse("approvals"))
    item = page.locator(f"#approval-{found.tasks['decision'].pk}")
    item.locator("[data-answer=tidak] > button").click()
    confirmed = item.locator("[data-confirm-step] button[data-confirmed]")
    if confirmed.is_visible():  # a Tidak that ends the run or sends the work back asks first
        confirmed.click()
    item.get_by_text("say why (a reason is required for Tidak)").wait_for()
    assert_clean(page, page.goto(page.url), watched, "approvals after a refusal")


def test_the_admin_works_under_the_policy_and_both_pdfs_carry_one(watched, found, live_server, tmp_path):
    page = watched("admin")
    # A changelist with actions: choose runs, pick "Cancel run", land on the reason form.
    response = page.goto(live_server.url + reverse("admin:procedures_run_changelist"))
    assert_clean(page, response, watched, "runs")
    page.locator("#action-toggle").check()  # admin/js/actions.js
    assert page.locator("input.action-select:checked").count() == Run.objects.count()
    page.locator("select[name=action]").select_option("cancel_runs")
    page.locator("button[name=index]").click()
    page.get_by_text("Reason for cancelling").wait_for()
    assert_clean(page, page.goto(page.url), watched, "runs again")
    # A position: the office autocomplete (select2 over /admin/autocomplete/); its holders are listed.
    kepala = Position.objects.get(office=found.sop.office, name__startswith="Kepala")
    response = page.goto(live_server.url + reverse("admin:procedures_position_change", args=[kepala.pk]))
    page.locator(".field-holders_list a.button").wait_for()
    page.locator(".select2-container").first.click()
    page.locator(".select2-results__option").first.wait_for()
    assert_clean(page, response, watched, "position")
    # A related object's popup: its page opens in a window of its own.
    with page.expect_popup() as opened:
        page.locator("#change_id_office").click()
    popup = opened.value
    popup.wait_for_load_state()
    assert "_popup=1" in popup.url
    assert popup.evaluate(REPORT) == [0, []]
    popup.close()
    # The holders' page (names and the acting reason from the scenario), readiness, importing people.
    for name, args in (("admin:procedures_position_holders", [kepala.pk]), ("admin:procedures_sop_readiness", []),
                       ("admin:procedures_sop_change", [found.sop.pk]), ("admin:auth_user_import", [])):
        assert_clean(page, page.goto(live_server.url + reverse(name, args=args)), watched, name)
    # The SOP import page: a refused file, its name and problems shown as text.
    page.goto(live_server.url + reverse("admin:procedures_sop_import"))
    page.locator("input[type=file]").set_input_files(
        [{"name": xss_scenario.FILE_NAME.replace(".pdf", ".yaml"), "mimeType": "application/yaml",
          "buffer": f"kode: uji\nnama: {xss_scenario.PAYLOAD!r}\n".encode()}])
    page.get_by_role("button", name="Import").click()
    page.locator("tr.refused").wait_for()
    assert "<img src=x onerror=__xss()>" in page.locator("tr.refused").inner_text()
    assert page.evaluate(REPORT) == [0, []]
    assert watched.problems == []
    # Both PDFs: a policy of their own, the payloads printed as text.
    for role, url in xss_scenario.pdfs(found):
        response = watched(role).request.get(live_server.url + url)
        assert response.ok and response.headers["content-type"] == "application/pdf"
        assert "default-src 'none'" in response.headers["content-security-policy"]
        path = tmp_path / "document.pdf"
        path.write_bytes(response.body())
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert "<img src=x onerror=__xss()>" in re.sub(r"\s+", " ", text), url
