"""procedures.inbox_rows: the inbox's rows written in Python, as the row template printed them."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from procedures import inbox_rows, selectors
from procedures.models import Task
from tests.engine_fixtures import _module_cast, cast, drive, english, open_task  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def _inbox_task(cast, perihal: str) -> Task:
    run = cast.start("004", perihal=perihal)
    drive(run, cast, stop_at=2)
    task = open_task(run)
    user = cast.holder(task.position)
    [row] = [t for t in selectors.my_tasks(user, selectors.standing_of(user)) if t.pk == task.pk]
    return row


def test_a_row_links_the_task_and_escapes_what_people_typed(cast):
    task = _inbox_task(cast, '<script>alert("x")</script> & co')
    [task] = inbox_rows.task_rows([task])
    assert f'href="{reverse("task-detail", args=[task.pk])}"' in task.row
    assert "<script>" not in task.row
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in task.row
    local = timezone.localtime(task.due_at, task.position.office.zoneinfo)
    assert f"Due {local:%d-%m-%Y %H.%M} {task.position.office.zone_abbreviation}" in task.row
    assert "list-group-item-danger" not in task.row and "visit" not in task.row


def test_an_overdue_task_reached_again_says_so(cast):
    task = _inbox_task(cast, "Patroli Pasar")
    task.due_at = timezone.now() - dt.timedelta(hours=1)
    task.visit = 2
    task.step.kegiatan = "x" * 200
    [task] = inbox_rows.task_rows([task])
    assert "list-group-item-danger" in task.row and "Overdue</span>" in task.row
    assert " · visit 2</div>" in task.row
    assert "x" * 109 + "…" in task.row and "x" * 110 not in task.row
