"""The monitoring pages (procedures.views.monitoring): scope, filters, charts, exports."""

import csv
import io
import re

import openpyxl
import pytest
import time_machine
from django.urls import reverse

from tests.monitoring_world import NOW, build_world

pytestmark = pytest.mark.django_db

PAGE = reverse("monitoring")


def export(table: str, fmt: str) -> str:
    return reverse("monitoring-export", args=[table, fmt])


@pytest.fixture
def world():
    return build_world()


@pytest.fixture(autouse=True)
def now():
    with time_machine.travel(NOW, tick=False):
        yield


def signed_in(client, user):
    client.force_login(user)
    return client


def test_it_sends_the_anonymous_to_sign_in(client):
    assert client.get(PAGE).status_code == 302


def test_a_head_sees_the_figures_of_the_office(client, world):
    response = signed_in(client, world.kepala).get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Patroli Uji" in page and "87,5 %" in page
    assert "Dikembalikan di luar alur" in page  # run F's Kembalikan, a column of the SOP and step tables
    assert "Kantor Timur" not in page  # another office
    assert page.count('class="pygal-chart monitoring-chart"') == 2  # the SOP's steps and the trend


def test_the_charts_carry_no_script_and_no_inline_style(client, world):
    page = signed_in(client, world.kepala).get(PAGE).content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert not re.search(r"<style|\sstyle=|\son[a-z]+=", page, re.I)


def test_a_staff_member_sees_only_his_own_figures(client, world):
    response = signed_in(client, world.staf).get(PAGE)
    assert response.status_code == 200
    people = response.context["report"].people
    assert [row.key for row in people] == [world.staf.pk]
    assert "jabatan" not in response.context["form"].fields


def test_a_superior_head_sees_the_offices_side_by_side(client, world):
    response = signed_in(client, world.kadis).get(PAGE)
    assert response.status_code == 200
    assert "kantor" in response.context["tables"]
    assert {row.name for row in response.context["report"].offices} == {"Dinas Induk", "Kantor Uji", "Kantor Timur"}


def test_the_monev_permission_shows_the_office(client, world):
    from django.contrib.auth.models import Permission

    world.staf.user_permissions.add(Permission.objects.get(codename="view_monitoring"))
    response = signed_in(client, world.staf).get(PAGE)
    assert {row.key for row in response.context["report"].people} >= {world.kepala.pk, world.staf.pk}


@pytest.mark.parametrize("param", ["kantor", "sop", "orang"])
def test_another_offices_figures_are_refused(client, world, param):
    other = {"kantor": world.timur.pk, "sop": world.sop_timur.pk, "orang": world.staf_timur.pk}[param]
    response = signed_in(client, world.kepala).get(PAGE, {param: other})
    assert response.status_code == 403
    assert signed_in(client, world.kepala).get(export("sop", "xlsx"), {param: other}).status_code == 403


def test_a_staff_member_cannot_ask_for_a_colleague(client, world):
    response = signed_in(client, world.staf).get(PAGE, {"orang": world.kepala.pk})
    assert response.status_code == 200  # the field is not his: he sees his own figures
    assert [row.key for row in response.context["report"].people] == [world.staf.pk]


@pytest.mark.parametrize("query, message", [
    ({"periode": "rentang", "dari": "2026-09-01", "sampai": "2026-08-01"}, "berakhir sebelum"),
    ({"periode": "2027-1"}, "belum dimulai"),
    ({"periode": "semester-x"}, "Pilih semester"),
    ({"dari": "2027-01-01", "sampai": "2027-02-01"}, "masa depan"),
    ({"dari": "2026-01-01"}, "kedua tanggal"),
    ({"dari": "bukan-tanggal", "sampai": "2026-02-01"}, "tanggal"),
    ({"sop": "abc"}, "bilangan"),
])
def test_nonsense_filters_get_a_clear_message(client, world, query, message):
    response = signed_in(client, world.kepala).get(PAGE, query, HTTP_ACCEPT_LANGUAGE="id")
    assert response.status_code == 400
    assert message.lower() in response.content.decode().lower()


def test_filters_by_sop_and_semester(client, world):
    response = signed_in(client, world.kepala).get(PAGE, {"sop": world.sop.pk, "periode": "2026-1"})
    assert response.status_code == 200
    assert response.context["report"].sops[0].started == 0


def test_the_xlsx_export_carries_the_filters_and_the_figures(client, world):
    response = signed_in(client, world.kepala).get(export("langkah", "xlsx"), {"sop": world.sop.pk},
                                                   HTTP_ACCEPT_LANGUAGE="id")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="pemantauan-langkah-20260701-')
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = [[value for value in row if value is not None] for row in sheet.iter_rows(values_only=True)]
    assert rows[1] == ["Periode", "Semester II 2026"]
    assert rows[3][1] == "Patroli Uji (uji-patroli)"
    header = rows.index(next(row for row in rows if row and row[0] == "SOP" and row[1] == "Langkah"))
    step_two = next(list(row) for row in sheet.iter_rows(min_row=header + 2, values_only=True) if row[1] == 2)
    columns = dict(zip(rows[header], step_two))  # the header row has every column
    assert columns["Median (menit)"] == 210 and columns["Persentil ke-90 (menit)"] == 916.5
    assert columns["Dikembalikan di luar alur"] == 1  # run F's step 2, sent back by the Staf


def test_the_csv_export_counts_the_returns_outside_the_flow(client, world):
    response = signed_in(client, world.kepala).get(export("sop", "csv"), HTTP_ACCEPT_LANGUAGE="id")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header = next(row for row in rows if row[:2] == ["SOP", "Instansi"])
    figures = dict(zip(header, next(row for row in rows if row and row[0].startswith("Patroli Uji"))))
    assert (figures["Dikembalikan"], figures["Dikembalikan di luar alur"]) == ("1", "1")


def test_the_csv_export_neutralises_formulas(client, world):
    world.sop.revisions.update(nama="=HYPERLINK(1)")
    response = signed_in(client, world.kepala).get(export("sop", "csv"))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert any(row and row[0] == "'=HYPERLINK(1) (uji-patroli)" for row in rows)


def test_an_unknown_table_or_format_is_missing(client, world):
    client = signed_in(client, world.kepala)
    assert client.get(export("rahasia", "csv")).status_code == 404
    assert client.get(export("sop", "exe")).status_code == 404


def test_user_text_is_escaped_in_tables_and_charts(client, world):
    world.sop.revisions.update(nama='<script>alert("x")</script>')
    page = signed_in(client, world.kepala).get(PAGE).content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_the_sops_flowchart_is_coloured_by_lateness(client, world):
    response = signed_in(client, world.kepala).get(PAGE, {"sop": world.sop.pk})
    page = response.content.decode()
    states = dict(re.findall(r'data-step="(\d+)"[^>]*data-state="(\w+)"', page))
    assert states == {"1": "within", "2": "slow", "3": "slow", "4": "within"}
    assert "data-lateness-flowchart" not in signed_in(client, world.kepala).get(PAGE).content.decode()


def test_the_page_speaks_indonesian(client, world):
    page = signed_in(client, world.kepala).get(PAGE, {"sop": world.sop.pk}, HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "Langkah penghambat" in page and "sekurang-kurangnya 80 % sesuai mutu baku" in page


def test_the_signed_evaluation_page_links_revision_drafts_in_constant_queries(client, world):
    """An editor's signed evaluation page: one "Buka draf revisi" per row marked perlu revisi, and the
    same number of queries however many rows have a draft."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from procedures.library import sop_import
    from procedures.monitoring import sheets
    from procedures.monitoring.scope import semester
    from tests.sop_samples import sample
    from tests.test_authoring_drafts import editor_of

    world.kepala.groups.add(editor_of(world.uji).groups.get())

    def signed(period: str):
        sheet = sheets.sheet_prepare(office=world.uji, period=semester(period), user=world.kepala, kind="evaluasi")
        rows = {row.pk: {**{key: "ya" for key, _label in sheets.CRITERIA}, "perlu_revisi": "1"}
                for row in sheet.rows.all()}
        sheets.sheet_save(sheet=sheet, user=world.kepala, rows=rows)
        return sheets.sheet_sign(sheet=sheet, user=world.kepala)

    def counted(sheet) -> tuple[int, str]:
        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse("monitoring-sheet", args=[sheet.pk])).content.decode()
        return len(queries), page

    signed_in(client, world.kepala)
    one = signed("2026-2")
    count_one, page = counted(one)
    assert one.rows.count() == 1 and page.count("Buka draf revisi") == 1
    result = sop_import(data=sample(**{"kode: uji-patroli": "kode: uji-patroli-2"}).encode(), source="uji2.yaml")
    assert not result.refused, result.problems
    two = signed("2026-1")
    assert two.rows.count() == 2, "the evaluation lists every SOP of the office"
    count_two, page = counted(two)
    assert page.count("Buka draf revisi") == 2
    assert count_two == count_one
