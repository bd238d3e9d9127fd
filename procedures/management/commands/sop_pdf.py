from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from procedures.library import find_revision
from procedures.pdf import DEFAULT_ORIENTATION, DEFAULT_PAPER, ORIENTATIONS, PAPERS, render_sop_pdf


class Command(BaseCommand):
    help = "Write the PDF sheet of an SOP (identity page and flowchart) to a file."

    def add_arguments(self, parser):
        parser.add_argument("kode", metavar="KODE")
        parser.add_argument("--revision", type=int, metavar="N", help="Revision number (default: the latest).")
        parser.add_argument("--instansi", help="The office, when several offices use the same KODE.")
        parser.add_argument("--kertas", choices=sorted(PAPERS), default=DEFAULT_PAPER,
                            type=str.lower, help="Paper: a4 (default) or f4.")
        parser.add_argument("--orientasi", choices=ORIENTATIONS, default=DEFAULT_ORIENTATION, type=str.lower,
                            help="The identity page: potret (default) or lanskap (the whole sheet landscape).")
        parser.add_argument("-o", "--output", metavar="FILE", required=True, help="The PDF file to write.")

    def handle(self, *args, kode, revision, instansi, kertas, orientasi, output, **options):
        try:
            found = find_revision(kode=kode, instansi=instansi, number=revision)
        except LookupError as error:
            raise CommandError(str(error)) from None
        content = render_sop_pdf(found, paper=kertas, orientation=orientasi)
        try:
            Path(output).write_bytes(content)
        except OSError as error:
            raise CommandError(_("cannot write %(file)s: %(reason)s") % {
                "file": output, "reason": error.strerror}) from None
        self.stdout.write(_("written %(file)s: %(kode)s, revision %(revision)s, paper %(paper)s") % {
            "file": output, "kode": found.sop.kode, "revision": found.number, "paper": kertas.upper()})
