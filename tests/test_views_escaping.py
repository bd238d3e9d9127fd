"""No text from an SOP file, a form or a person's name becomes markup: on any page, in an htmx
partial, a message, a re-rendered form, an error page, the HTML fed to WeasyPrint or an email.

The payloads and the pages are in tests/xss_scenario.py; tests/browser/test_xss.py opens the same
pages in Chromium and checks that no script runs.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from procedures import pdf, reminders
from procedures.models import Task
from tests import xss_scenario
from tests.xss_scenario import MARKUP, PAYLOAD, SHORT, SHOWN

pytestmark = pytest.mark.django_db


@pytest.fixture
def found(settings):
    settings.LANGUAGE_CODE = "en"
    return xss_scenario.build()


def client_of(found, role: str) -> Client:
    client = Client()
    client.force_login(found.users[role])
    return client


def assert_text_only(html: str, where: str) -> None:
    markup = MARKUP.search(html)
    assert markup is None, f"{where}: a payload became markup: …{html[max(markup.start() - 80, 0):markup.end() + 80]}…"


def test_no_payload_becomes_markup_on_any_page_and_each_page_shows_them_as_text(found):
    clients = {}
    for page in xss_scenario.pages(found):
        client = clients.setdefault(page.user, client_of(found, page.user))
        response = client.get(page.url)
        assert response.status_code == 200, page.name
        html = response.content.decode()
        assert_text_only(html, page.name)
        assert SHOWN in html, f"{page.name} shows none of the texts: the check would prove nothing"


def test_the_task_forms_help_text_shows_the_expected_output_as_text(found):
    html = client_of(found, "staf").get(reverse("task-detail", args=[found.tasks["redo"].pk])).content.decode()
    assert "Expected: output 1: " + SHOWN.replace("&lt;img", "&quot;&#x27;&gt;&lt;svg onload=__xss()&gt;&lt;img") in html


def test_kelengkapan_choices_and_the_sop_choices_are_labels_of_text(found):
    decision = client_of(found, "kepala").get(reverse("task-detail", args=[found.tasks["decision"].pk]))
    assert "kelengkapan 2: &quot;&#x27;&gt;" in decision.content.decode()
    start = client_of(found, "staf").get(reverse("run-start")).content.decode()
    assert "<option" in start and "nama: &quot;&#x27;&gt;" in start


def test_forms_sent_back_with_an_error_keep_the_payload_as_text_inside_their_fields(found):
    staf = client_of(found, "staf")
    redo = found.tasks["redo"]
    # No item ticked: the form comes back, its textareas holding what was typed.
    response = staf.post(reverse("task-complete", args=[redo.pk]), {"output_text": PAYLOAD, "note": PAYLOAD})
    assert response.status_code == 400
    html = response.content.decode()
    assert_text_only(html, "task form with an error")
    assert html.count("&lt;/textarea&gt;") >= 2
    # A perihal and an unknown SOP: the start form comes back with the perihal in its field.
    response = staf.post(reverse("run-start"), {"revision": "999999", "perihal": PAYLOAD})
    assert response.status_code == 400
    assert_text_only(response.content.decode(), "start form with an error")
    # A finished run cannot be cancelled: the reason comes back in the form with the refusal.
    response = client_of(found, "kepala").post(reverse("run-cancel", args=[found.runs["finished"].pk]),
                                               {"reason": PAYLOAD})
    assert response.status_code in (400, 403, 409)
    assert_text_only(response.content.decode(), "cancel form refused")


def test_htmx_partials_and_messages_keep_texts_as_text(found):
    kepala = client_of(found, "kepala")
    decision = found.tasks["decision"]
    partial = kepala.get(reverse("task-detail", args=[decision.pk]), headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.content.decode()
    assert_text_only(partial.content.decode(), "task panel partial")
    # Tolak without a reason: the item comes back with the error.
    refused = kepala.post(reverse("approvals"), {"act": f"{decision.pk}:tidak"}, headers={"HX-Request": "true"})
    assert refused.status_code == 400
    assert_text_only(refused.content.decode(), "approval item partial")
    # Setuju on the page: the message names the run's perihal.
    ticked = [str(pk) for pk in decision.step.kelengkapan.values_list("pk", flat=True)]
    done = kepala.post(reverse("approvals"), {"act": f"{decision.pk}:ya", f"t{decision.pk}-ticked": ticked},
                       follow=True)
    html = done.content.decode()
    assert "perihal A: &quot;&#x27;&gt;" in html, "the message should name the run"
    assert_text_only(html, "approvals page with its message")


def test_error_pages_show_no_payload_as_markup(found):
    staf = client_of(found, "staf")
    task_of_another_position = found.tasks["decision"]
    for url in (reverse("task-detail", args=[task_of_another_position.pk]), f"/sop/{found.sop.kode}/?revisi={PAYLOAD}",
                "/tidak-ada/" + SHORT):
        response = staf.get(url)
        assert response.status_code in (403, 404)
        assert_text_only(response.content.decode(), url)


@pytest.fixture
def fed_to_weasyprint(monkeypatch) -> list[str]:
    documents: list[str] = []
    write = pdf._write_pdf

    def keep(html: str) -> bytes:
        documents.append(html)
        return write(html)

    monkeypatch.setattr(pdf, "_write_pdf", keep)
    return documents


def pdf_text(content: bytes, tmp_path) -> str:
    assert shutil.which("pdftotext"), "pdftotext (poppler-utils) is needed"
    path = tmp_path / "document.pdf"
    path.write_bytes(content)
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, text=True)
    return " ".join(out.stdout.split())


def test_both_pdfs_print_the_payloads_as_text_from_escaped_html(found, fed_to_weasyprint, tmp_path):
    for role, url in xss_scenario.pdfs(found):
        response = client_of(found, role).get(url)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf", url
        html = fed_to_weasyprint[-1]
        assert_text_only(html, f"HTML of {url}")
        assert SHOWN in html
        text = pdf_text(response.content, tmp_path)
        # Literally there: markup would have been dropped by WeasyPrint, not printed.
        assert "<img src=x onerror=__xss()>" in text, url
        assert "{{ 7*7 }}" in text, url


def test_the_reminder_email_is_plain_text_and_keeps_each_text_on_its_line(found, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # A perihal typed with line breaks (a crafted form) must not forge lines of the email.
    run = found.runs["waiting"]
    type(run).objects.filter(pk=run.pk).update(perihal="Rapat\n   Open: https://phish.example/\nx")
    task = Task.objects.select_related("run__office", "run__revision", "step", "position").get(
        pk=found.tasks["decision"].pk)
    message = reminders.reminder_message(found.users["kepala"], [task], now=task.due_at)
    assert message.content_subtype == "plain"
    assert "\n" not in message.subject
    assert PAYLOAD.split("{{")[0] in message.body  # as typed: plain text needs no escaping
    assert "\n   Open: https://phish.example/" not in message.body
    reminders.reminders_send(due={found.users["kepala"]: [task]}, now=task.due_at)
    assert len(mail.outbox) == 1 and not getattr(mail.outbox[0], "alternatives", None)  # no HTML part
