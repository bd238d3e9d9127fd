from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from procedures.import_report import readiness_lines, with_step_names
from procedures.library import collect_paths, sop_import_files


def _reread(path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


class Command(BaseCommand):
    help = "Import SOP files (YAML) or folders of them; one line per file, then what each SOP still lacks."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH", help="SOP files or folders of *.yaml")
        parser.add_argument("--check", action="store_true", help="Validate only; write nothing.")

    def handle(self, *args, paths, check, **options):
        files, missing = collect_paths(paths)
        imported = sop_import_files(files=((str(path), path.read_bytes()) for path in files), check_only=check)
        # A refused file is read again to name its steps by their nomor beside the key paths.
        imported = [with_step_names(result, _reread(path) if result.refused else None)
                    for path, result in zip(files, imported)]
        results = missing + imported
        for result in results:
            stream = self.stderr if result.refused else self.stdout
            for line in result.lines():
                stream.write(line)
        if not check:
            lines = readiness_lines(results)
            if lines:
                self.stdout.write(_("Readiness:"))
            for line in lines:
                self.stdout.write(f"  {line}")
        refused = sum(result.refused for result in results)
        if not results:
            raise CommandError(_("no SOP files (*.yaml) found in %(paths)s") % {"paths": ", ".join(paths)})
        if refused:
            raise CommandError(
                _("%(refused)s of %(total)s file(s) refused") % {"refused": refused, "total": len(results)}
            )
