"""Monev: the figures of a done task (time taken, its standard, within it), the monev permission, and
the monitoring sheets (Formulir Monitoring Pelaksanaan SOP) with their rows and audit events, and the
record of the semester reminders to sign them.

The tasks already done get their figures here, office by office, in batches, on each office's
calendar as it is now (procedures.monitoring.recording computes them as the engine does).
"""

import datetime as dt
from zoneinfo import ZoneInfo

import django.db.models.deletion
import django.utils.timezone
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
                # A task returned outside the drawn flow (engine.task_return) has no figures of its own.
                .exclude(status="dikembalikan", decision="")
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
        ('procedures', '0006_office_logo'),
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
        migrations.CreateModel(
            name='MonitoringSheet',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('monitoring', 'Formulir Monitoring Pelaksanaan SOP'), ('evaluasi', 'Formulir Evaluasi Penerapan SOP')], default='monitoring', max_length=12, verbose_name='form')),
                ('period_start', models.DateField(verbose_name='period from')),
                ('period_end', models.DateField(verbose_name='period until')),
                ('period_label', models.CharField(max_length=100, verbose_name='period')),
                ('status', models.CharField(choices=[('draf', 'draft'), ('ditandatangani', 'signed')], default='draf', max_length=16, verbose_name='status')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='prepared at')),
                ('signer_name', models.CharField(blank=True, max_length=300, verbose_name="signer's name")),
                ('signer_jabatan', models.CharField(blank=True, max_length=300, verbose_name="signer's position")),
                ('signer_nip', models.CharField(blank=True, max_length=18, verbose_name="signer's NIP/NRP")),
                ('signed_at', models.DateTimeField(blank=True, null=True, verbose_name='signed at')),
                ('supersede_reason', models.TextField(blank=True, verbose_name='why it supersedes the earlier sheet')),
                ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='prepared by')),
                ('office', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='monitoring_sheets', to='procedures.office', verbose_name='office')),
                ('signed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='signed by')),
                ('supersedes', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='superseded_by', to='procedures.monitoringsheet', verbose_name='supersedes')),
            ],
            options={
                'verbose_name': 'monitoring sheet',
                'verbose_name_plural': 'monitoring sheets',
                'ordering': ['-period_start', 'office__name', '-created_at'],
            },
        ),
        migrations.CreateModel(
            name='MonitoringSheetEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('action', models.CharField(choices=[('prepare', 'prepared by'), ('save', 'saved by'), ('sign', 'signed by'), ('supersede', 'superseded by')], max_length=20, verbose_name='action')),
                ('reason', models.TextField(blank=True, verbose_name='reason')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='at')),
                ('actor', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='by')),
                ('sheet', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='events', to='procedures.monitoringsheet', verbose_name='monitoring sheet')),
            ],
            options={
                'verbose_name': 'monitoring sheet event',
                'verbose_name_plural': 'monitoring sheet events',
                'ordering': ['created_at', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='MonitoringSheetRow',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('order', models.PositiveSmallIntegerField(verbose_name='order')),
                ('prosedur', models.CharField(max_length=500, verbose_name='procedure')),
                ('proposed', models.CharField(blank=True, choices=[('baik', 'runs well'), ('tidak_baik', 'does not run well')], max_length=10, verbose_name='proposed assessment')),
                ('assessment', models.CharField(blank=True, choices=[('baik', 'runs well'), ('tidak_baik', 'does not run well')], max_length=10, verbose_name='assessment')),
                ('tindakan', models.TextField(blank=True, verbose_name='action to take')),
                ('catatan', models.TextField(blank=True, verbose_name='notes')),
                ('figures', models.JSONField(blank=True, default=dict, verbose_name='figures')),
                ('answers', models.JSONField(blank=True, default=dict, verbose_name='answers')),
                ('perlu_revisi', models.BooleanField(default=False, verbose_name='needs revision')),
                ('sheet', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='rows', to='procedures.monitoringsheet', verbose_name='monitoring sheet')),
                ('sop', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='procedures.sop', verbose_name='SOP')),
            ],
            options={
                'verbose_name': 'monitoring sheet row',
                'verbose_name_plural': 'monitoring sheet rows',
                'ordering': ['sheet', 'order'],
            },
        ),
        migrations.AddConstraint(
            model_name='monitoringsheet',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'draf')), fields=('office', 'kind', 'period_start', 'period_end'), name='monitoring_sheet_one_draft'),
        ),
        migrations.AddConstraint(
            model_name='monitoringsheetrow',
            constraint=models.UniqueConstraint(fields=('sheet', 'sop'), name='monitoring_row_sop_once'),
        ),
        migrations.CreateModel(
            name='MonitoringReminder',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('period_start', models.DateField(verbose_name='period from')),
                ('sent_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='sent at')),
                ('office', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='procedures.office', verbose_name='office')),
            ],
            options={
                'verbose_name': 'monitoring sheet reminder',
                'verbose_name_plural': 'monitoring sheet reminders',
                'constraints': [models.UniqueConstraint(fields=('office', 'period_start'), name='monitoring_reminder_once')],
            },
        ),
        migrations.RunPython(fill_figures, migrations.RunPython.noop, elidable=True),
    ]
