from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from procedures.demo import ADMIN_USERNAME, DEMO_PASSWORD, demo_users_create

LOGIN_URL = "http://127.0.0.1:8000/"


class Command(BaseCommand):
    help = "Create (or reset) one demo user per position of the imported SOPs, and an admin (DEBUG only)."

    def handle(self, *args, **options):
        # Every demo user shares a published password: never on a server.
        if not settings.DEBUG:
            raise CommandError(_("demo users have a known password; they are only created when DEBUG is on"))
        users = demo_users_create()
        header = (_("Username"), _("Position"), _("Office"))
        rows = [header] + [(user.username, user.position, user.office) for user in users]
        widths = [max(len(row[column]) for row in rows) for column in range(2)]
        for number, row in enumerate(rows):
            self.stdout.write(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}".rstrip())
            if number == 0:
                self.stdout.write(f"{'-' * widths[0]}  {'-' * widths[1]}  {'-' * len(row[2])}")
        self.stdout.write("")
        if len(users) == 1:
            self.stdout.write(_("No SOP is imported yet, so only the admin was made; "
                                "import some first: python manage.py import_sops fixtures/sops"))
        self.stdout.write(_("Password of every demo user: %(password)s") % {"password": DEMO_PASSWORD})
        self.stdout.write(_("Sign in at %(url)s") % {"url": LOGIN_URL})
        self.stdout.write(_("“%(admin)s” is a superuser and may also use %(url)sadmin/") % {
            "admin": ADMIN_USERNAME, "url": LOGIN_URL})
