"""Monev: the figures of a done task (time taken, its standard, within it), and the monev permission.

The tasks already done get their figures here, office by office, in batches, on each office's
calendar as it is now (procedures.monitoring.recording computes them as the engine does).
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import migrations, models

BATCH = 2000


def fill_figures(apps, schema_editor):
    from procedures.monitoring.recording import task_figures
    from procedures.working_calendar import WorkingCalendar

    Office = apps.get_model("procedures", "Office")
    WorkingHours = apps.get_model("procedures", "WorkingHours")
    Holiday = apps.get_model("procedures", "Holiday")
    Task = apps.get_model("procedures", "Task")
    defaults = {weekday: (dt.time(7, 30), dt.time(16, 30) if weekday == 4 else dt.time(16, 0)) for weekday in range(5)}
    shared = set(Holiday.objects.filter(office__isnull=True).values_list("date", flat=True))
    for office in Office.objects.all():
        hours = {weekday: (start, end) for weekday, start, end in
                 WorkingHours.objects.filter(office=office).values_list("weekday", "start", "end")} or defaults
        days_off = shared | set(Holiday.objects.filter(office=office).values_list("date", flat=True))
        calendar = WorkingCalendar(tz=ZoneInfo(office.time_zone), hours=hours, extra_holidays=frozenset(days_off))
        done = (Task.objects.filter(run__office=office, status__in=["selesai", "dikembalikan"],
                                    completed_at__isnull=False, within_standard__isnull=True)
                .select_related("step").order_by("pk"))
        last = 0
        while True:
            batch = list(done.filter(pk__gt=last)[:BATCH])
            if not batch:
                break
            for task in batch:
                figures = task_figures(calendar, reached=task.created_at, done=task.completed_at,
                                       amount=task.step.waktu_max, unit=task.step.waktu_unit)
                task.worked_minutes = figures.worked_minutes
                task.standard_minutes = figures.standard_minutes
                task.within_standard = figures.within_standard
            Task.objects.bulk_update(batch, ["worked_minutes", "standard_minutes", "within_standard"])
            last = batch[-1].pk


class Migration(migrations.Migration):

    dependencies = [
        ('procedures', '0005_profiles_superior_offices'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='run',
            options={'ordering': ['-started_at'], 'permissions': [('view_monitoring', 'Can see the monitoring (monev) of their office')], 'verbose_name': 'run', 'verbose_name_plural': 'runs'},
        ),
        migrations.AddField(
            model_name='task',
            name='standard_minutes',
            field=models.PositiveIntegerField(blank=True, editable=False, null=True, verbose_name='time standard (minutes)'),
        ),
        migrations.AddField(
            model_name='task',
            name='within_standard',
            field=models.BooleanField(blank=True, editable=False, null=True, verbose_name='within the time standard'),
        ),
        migrations.AddField(
            model_name='task',
            name='worked_minutes',
            field=models.PositiveIntegerField(blank=True, editable=False, null=True, verbose_name='time taken (minutes)'),
        ),
        migrations.AddIndex(
            model_name='task',
            index=models.Index(condition=models.Q(('within_standard__isnull', False)), fields=['completed_at', 'run'], name='task_figures_done'),
        ),
        migrations.RunPython(fill_figures, migrations.RunPython.noop, elidable=True),
    ]
