"""Profiles (NIP, pangkat, office), superior offices, the revision that introduced a position, and
on PostgreSQL no two Plt (or two Plh) of one position on overlapping days.

The overlap rule is an exclusion constraint, which only PostgreSQL has (with the btree_gist
extension for the equality parts; trusted since PostgreSQL 13, so the database owner may create
it). Where the extension cannot be created the constraint is skipped: ``engine.acting_appoint``
checks the rule anyway, under a lock on the position's row, on every database.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


CONSTRAINT = "acting_no_overlap"


def acting_no_overlap(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SAVEPOINT acting_no_overlap")
        try:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        except Exception:  # not allowed here: the engine's check stands alone
            cursor.execute("ROLLBACK TO SAVEPOINT acting_no_overlap")
            return
        try:
            cursor.execute(
                f"ALTER TABLE procedures_actingassignment ADD CONSTRAINT {CONSTRAINT} EXCLUDE USING gist "
                "(position_id WITH =, kind WITH =, daterange(starts_on, ends_on, '[]') WITH &&)"
            )
        except Exception:  # appointments made before overlap already: end them early, then migrate again
            cursor.execute("ROLLBACK TO SAVEPOINT acting_no_overlap")
            print(f"\n  {CONSTRAINT} not added: some Plt/Plh appointments of one position overlap already; "
                  "the engine still refuses new overlaps.")
            return
        cursor.execute("RELEASE SAVEPOINT acting_no_overlap")


def acting_no_overlap_reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE procedures_actingassignment DROP CONSTRAINT IF EXISTS {CONSTRAINT}")


class Migration(migrations.Migration):

    dependencies = [
        ('procedures', '0004_sheet_keys'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='office',
            name='parent',
            field=models.ForeignKey(blank=True, help_text='Optional. Users of the superior office may be named Plt/Plh here, and its admins manage this office.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='children', to='procedures.office', verbose_name='superior office'),
        ),
        migrations.AddField(
            model_name='position',
            name='introduced_by',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='procedures.soprevision', verbose_name='created by importing'),
        ),
        migrations.CreateModel(
            name='Profile',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('nip', models.CharField(blank=True, help_text='18 digits for a civil servant (NIP), 8 for a police officer (NRP); empty for others.', max_length=18, verbose_name='NIP/NRP')),
                ('pangkat', models.CharField(blank=True, max_length=100, verbose_name='rank and grade (pangkat/golongan)')),
                ('office', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='members', to='procedures.office', verbose_name='office')),
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='profile', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'profile',
                'verbose_name_plural': 'profiles',
                'constraints': [models.UniqueConstraint(condition=models.Q(('nip', ''), _negated=True), fields=('nip',), name='profile_nip_unique')],
            },
        ),
        migrations.RunPython(acting_no_overlap, acting_no_overlap_reverse, elidable=False),
    ]
