from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from procedures.library import find_revision, sop_export


class Command(BaseCommand):
    help = "Write an SOP as a file in the SOP file format (stdout by default)."

    def add_arguments(self, parser):
        parser.add_argument("kode", metavar="KODE")
        parser.add_argument("--revision", type=int, metavar="N", help="Revision number (default: the latest).")
        parser.add_argument("--instansi", help="The office, when several offices use the same KODE.")
        parser.add_argument("-o", "--output", metavar="FILE", help="Write to FILE instead of stdout.")

    def handle(self, *args, kode, revision, instansi, output, **options):
        try:
            found = find_revision(kode=kode, instansi=instansi, number=revision)
        except LookupError as error:
            raise CommandError(str(error)) from None
        text = sop_export(revision=found)
        if output:
            try:
                Path(output).write_text(text, encoding="utf-8")
            except OSError as error:
                raise CommandError(_("cannot write %(file)s: %(reason)s") % {
                    "file": output, "reason": error.strerror}) from None
        else:
            self.stdout.write(text, ending="")
