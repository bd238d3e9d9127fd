"""Odd values in every GET parameter of every page, the admin's lists included: each either works
or gets a clear message (a form error, a 400 or 404 page, the admin's "bad filter" return to
the list), never a 500.

The values are what a mistyped, bookmarked, truncated or hostile address holds: NUL characters,
numbers past any column, dates past the calendar, reversed ranges, quotes, markup, other
scripts, very long text, the same parameter twice.
"""

from __future__ import annotations

import itertools

import pytest
from django.contrib import admin
from django.contrib.admin.views.main import ERROR_FLAG, ORDER_VAR, PAGE_VAR, SEARCH_VAR
from django.test import Client, RequestFactory
from django.urls import reverse

from tests.engine_fixtures import _module_cast, cast, drive, english, open_task  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

ODD = [
    "\x00", "a\x00b", "9" * 20, "-9" * 10, "-1", "0", "1e309", "NaN", "inf", "1.5", "0x10", "",  " ",
    "99999999999999999999-01-01", "9999-12-31", "0001-01-01", "2024-02-30", "2024-13-01", "31-12-2024",
    "'", '"', "\\", "%", "' OR 1=1 --", "<script>x</script>", "{{ 7*7 }}", "𝕏ü€ كتاب", "\u202eabc",
    "x" * 5000, "../../etc/passwd", "true", "[]",
]
# For a parameter a page does not read, and for the admin's many lists: the values that broke
# something somewhere (all of them go to the parameters the site's own pages read).
FEW = ["\x00", "9" * 20, "99999999999999999999-01-01", "'", "-1", "x" * 2000, "𝕏ü€"]
TWICE = ["1", "x"]  # a parameter given twice


def outcome(client: Client, url: str, data) -> str | None:
    """None when the page answered sensibly, else what went wrong."""
    try:
        response = client.get(url, data)
    except Exception as error:  # noqa: BLE001 (what the battery is for: report every crash)
        return f"{type(error).__name__}: {str(error)[:120]}"
    if response.status_code >= 500:
        return f"{response.status_code}"
    if response.status_code not in (200, 302, 400, 403, 404):
        return f"unexpected {response.status_code}"
    return None


def battery(client: Client, url: str, params: list[str], values: list[str]) -> list[str]:
    failures = []
    for param in params:
        for value in [*values, TWICE]:
            problem = outcome(client, url, {param: value})
            if problem:
                failures.append(f"{url}?{param}={value!r:.40}: {problem}")
    return failures


def site_pages(cast) -> dict[str, list[str]]:
    """Every page of the site with the GET parameters it reads (and one it does not)."""
    run = cast.start("003", perihal="Uji parameter")
    drive(run, cast, stop_at=4)
    task = open_task(run)
    kode = run.revision.sop.kode
    return {
        reverse("inbox"): ["x"],
        reverse("run-list"): ["sop", "status", "started_from", "started_until", "overdue", "page"],
        reverse("run-start"): ["revision"],
        reverse("run-detail", args=[run.pk]): ["x"],
        reverse("task-detail", args=[task.pk]): ["x"],
        reverse("approvals"): ["x"],
        reverse("upcoming"): ["x"],
        reverse("overdue"): ["x"],
        reverse("sop-list"): ["x"],
        reverse("sop-detail", args=[kode]): ["revisi"],
        reverse("sop-pdf", args=[kode]): ["revisi", "kertas"],
        reverse("login"): ["next"],
        reverse("password_change"): ["x"],
        reverse("set_language"): ["next", "language"],
    }


def values(url: str, params: list[str]) -> list[str]:
    if params == ["x"]:
        return FEW
    if url.endswith("/pdf"):  # a blank value is the default sheet, rendered (slowly) by the PDF tests
        return [value for value in ODD if value.strip()]
    return ODD


def test_no_parameter_of_any_page_gives_a_500(client, cast):
    pages = site_pages(cast)
    client.force_login(cast.admin)
    failures = list(itertools.chain.from_iterable(
        battery(client, url, params, values(url, params)) for url, params in pages.items()))
    assert not failures, "\n".join(failures)


def test_the_run_lists_odd_filters_get_messages_by_their_fields(client, cast, english):
    client.force_login(cast.admin)
    run_list = reverse("run-list")
    response = client.get(run_list, {"started_until": "9999-12-31"})
    assert response.status_code == 200
    assert "started_until" in response.context["form"].errors
    response = client.get(run_list, {"started_from": "2025-02-01", "started_until": "2025-01-01"})
    assert response.status_code == 200
    assert response.context["form"].errors["started_until"] == ["The end is before the start."]
    response = client.get(run_list, {"page": "banyak"})
    assert response.status_code == 200 and response.context["page"].number == 1


GENERIC = [SEARCH_VAR, ORDER_VAR, PAGE_VAR, ERROR_FLAG, "all", "_popup", "_to_field"]


def admin_lists(superuser) -> dict[str, list[str]]:
    """Every changelist of the admin site (sopflow's, auth's, axes'), with the parameters its
    filters and date hierarchy read, and its search (the fields searched differ by list)."""
    factory = RequestFactory()
    lists = {}
    for model, model_admin in admin.site._registry.items():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        request = factory.get(url)
        request.user = superuser
        changelist = model_admin.get_changelist_instance(request)
        params = [param for spec in changelist.filter_specs for param in spec.expected_parameters()]
        if model_admin.date_hierarchy:
            params += [f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day")]
        lists[url] = [*params, SEARCH_VAR]
    return lists


def test_no_parameter_of_any_admin_list_gives_a_500(client, cast):
    drive(cast.start("003", perihal="Uji parameter admin"), cast, stop_at=4)
    client.force_login(cast.admin)
    lists = admin_lists(cast.admin)
    assert len(lists) >= 11
    failures = list(itertools.chain.from_iterable(
        battery(client, url, params, FEW) for url, params in lists.items()))
    # Ordering, pages, popups: the same code for every list; the runs' has actions and a hierarchy.
    failures += battery(client, reverse("admin:procedures_run_changelist"), GENERIC, FEW)
    autocomplete = reverse("admin:autocomplete")
    base = {"app_label": "procedures", "model_name": "position", "field_name": "office"}
    for param, value in itertools.product([*base, "term", "page"], FEW):
        problem = outcome(client, autocomplete, {**base, param: value})
        if problem:
            failures.append(f"{autocomplete}?{param}={value!r:.40}: {problem}")
    assert not failures, "\n".join(failures)


def test_the_admins_date_hierarchy_and_sop_filter_take_odd_values_back_to_the_list_with_a_message(
        client, cast, english):
    client.force_login(cast.admin)
    for url in (reverse("admin:procedures_run_changelist") + "?started_at__year=" + "9" * 20,
                reverse("admin:procedures_soprevision_changelist") + "?sop=%27",
                reverse("admin:procedures_event_changelist") + f"?{ERROR_FLAG}=1&created_at__year=" + "9" * 20,
                reverse("admin:procedures_task_changelist") + "?status__exact=nothing&due_at__gte=x"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].endswith(f"?{ERROR_FLAG}=1"), url
        shown = client.get(response["Location"])
        assert shown.status_code == 200
        assert "The list could not be filtered that way; it is shown whole." in shown.content.decode()


def test_a_nul_character_in_an_address_is_a_bad_request_with_a_message(client, cast, english):
    client.force_login(cast.admin)
    response = client.get(reverse("admin:procedures_run_changelist"), {"q": "a\x00b"})
    assert response.status_code == 400
    assert "NUL" in response.content.decode()
    assert "Content-Security-Policy" in response
