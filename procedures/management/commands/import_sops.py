from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from procedures.library import collect_paths, sop_import_files


class Command(BaseCommand):
    help = "Import SOP files (YAML) or folders of them; one line per file."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH", help="SOP files or folders of *.yaml")
        parser.add_argument("--check", action="store_true", help="Validate only; write nothing.")

    def handle(self, *args, paths, check, **options):
        files, missing = collect_paths(paths)
        results = missing + sop_import_files(
            files=((str(path), path.read_bytes()) for path in files), check_only=check
        )
        for result in results:
            stream = self.stderr if result.refused else self.stdout
            for line in result.lines():
                stream.write(line)
        refused = sum(result.refused for result in results)
        if not results:
            raise CommandError(_("no SOP files (*.yaml) found in %(paths)s") % {"paths": ", ".join(paths)})
        if refused:
            raise CommandError(
                _("%(refused)s of %(total)s file(s) refused") % {"refused": refused, "total": len(results)}
            )
