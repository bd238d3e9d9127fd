from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from procedures.monitoring.reminders import sheet_reminders_send


class Command(BaseCommand):
    help = ("Around the end of a semester, email the heads whose office has not signed the semester's monitoring "
            "sheet (once per office and semester; run it daily from cron).")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count the emails; send nothing, record nothing.")

    def handle(self, *args, dry_run, **options):
        sent = sheet_reminders_send(dry_run=dry_run)
        if dry_run:
            self.stdout.write(_("dry run: %(emails)s monitoring sheet reminder(s) not sent") % {"emails": sent})
        else:
            self.stdout.write(_("%(emails)s monitoring sheet reminder(s) sent") % {"emails": sent})
