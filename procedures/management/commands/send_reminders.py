from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from procedures.reminders import reminders_due, reminders_send


class Command(BaseCommand):
    help = "Email the people who may act on tasks due within the next working hour, or overdue."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Show who would be emailed; send nothing.")

    def handle(self, *args, dry_run, **options):
        due = reminders_due()
        sent = reminders_send(due=due, dry_run=dry_run)
        tasks = len({task.pk for user_tasks in due.values() for task in user_tasks})
        if dry_run:
            for user, user_tasks in due.items():
                self.stdout.write(_("would email %(email)s: %(count)s task(s)") % {
                    "email": user.email, "count": len(user_tasks)})
            self.stdout.write(_("dry run: %(emails)s email(s) not sent, %(tasks)s task(s)") % {
                "emails": sent, "tasks": tasks})
        else:
            self.stdout.write(_("%(emails)s email(s) sent, %(tasks)s task(s)") % {"emails": sent, "tasks": tasks})
