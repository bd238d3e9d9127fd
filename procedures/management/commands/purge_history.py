import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils.translation import gettext as _

from procedures.history import PurgeRefused, history_purge
from procedures.models import Office


class Command(BaseCommand):
    help = (
        "Remove the history of whole finished or cancelled runs of one office that ended before a date: "
        "their tasks, files and audit events. Without --confirm it only says what it would remove. "
        "Who, when and what are written to the history log (settings.HISTORY_LOG) first."
    )

    def add_arguments(self, parser):
        parser.add_argument("--office", required=True, help="The office: its name (any case) or its number.")
        parser.add_argument("--before", required=True, metavar="YYYY-MM-DD",
                            help="Runs that ended before this date (in the office's time zone) are removed.")
        parser.add_argument("--by", required=True, metavar="USERNAME",
                            help="The superuser who answers for the removal (recorded in the log).")
        parser.add_argument("--confirm", action="store_true", help="Remove; without it, nothing is removed.")

    def handle(self, *args, office, before, by, confirm, **options):
        office = self._office(office)
        try:
            before = dt.date.fromisoformat(before)
        except ValueError:
            raise CommandError(_("--before must be a date written YYYY-MM-DD, not %(value)r") % {"value": before}) from None
        user = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: by}).first()
        if user is None:
            raise CommandError(_("there is no user %(name)r") % {"name": by})
        try:
            purge = history_purge(office=office, before=before, by=user, confirm=confirm)
        except PurgeRefused as refusal:
            raise CommandError(str(refusal)) from None
        numbers = {"runs": len(purge.run_ids), "tasks": purge.tasks, "events": purge.events,
                   "files": len(purge.files), "office": office.name, "date": before.isoformat(),
                   "log": settings.HISTORY_LOG}
        if purge.done:
            self.stdout.write(_("removed %(runs)s run(s) of %(office)s that ended before %(date)s: %(tasks)s "
                                "task(s), %(events)s event(s), %(files)s file(s); logged in %(log)s") % numbers)
        else:
            self.stdout.write(_("would remove %(runs)s run(s) of %(office)s that ended before %(date)s: %(tasks)s "
                                "task(s), %(events)s event(s), %(files)s file(s); nothing removed (add --confirm "
                                "to remove them, which is logged in %(log)s)") % numbers)

    def _office(self, value: str) -> Office:
        query = Q(name__iexact=value.strip())
        if value.strip().isdigit():
            query |= Q(pk=int(value))
        found = list(Office.objects.filter(query)[:2])
        if len(found) != 1:
            raise CommandError(_("there is no office %(office)r (give its name or its number)") % {"office": value})
        return found[0]
