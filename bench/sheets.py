"""SOP sheets: PDF render time (000 and a generated 100-step, 8-role SOP), the wrapping of long
unbroken words, and the import of 1,000 generated SOP files through the library, as `import_sops`
and the admin do it.

The sheet figures alone, on a scratch SQLite database, without the rest of the bench:

    .venv/bin/python -m bench.sheets            # BENCH_PDF_REPEAT=5 for more renders
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

if __name__ == "__main__":  # settings read the database's place when Django starts: before any import of it
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ["SOPFLOW_VAR_DIR"] = tempfile.mkdtemp(prefix="sopflow-sheets-")
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sopflow.settings")
    import django

    django.setup()

from bench.data import SEEDS, office_name, seed_copy  # noqa: E402
from procedures.library import sop_import_files  # noqa: E402
from procedures.models import SopRevision  # noqa: E402

PDF_GOALS = {"000": 0.4, "generated_100": 2.0}  # the generated sheet has BENCH_PDF_STEPS steps (100)
WRAP_WORDS = (2_000, 5_000, 20_000)  # characters of one unbroken word (issue 11: 10 s, then minutes)
IMPORT_GOAL = 10.0
ROLES = ("Kepala Dinas", "Sekretaris", "Kabid Pelayanan", "Kabid Pengawasan", "Kasi Pelayanan",
         "Kasi Pengawasan", "Staf Pelayanan", "Staf Pengawasan")


def generated_sop(*, kode: str, instansi: str, steps: int = 100, roles=ROLES) -> bytes:
    """A valid SOP file of ``steps`` steps over ``roles``; every tenth step is a decision."""
    langkah = []
    for nomor in range(1, steps + 1):
        step = {
            "nomor": nomor,
            "kegiatan": f"Kegiatan nomor {nomor}: memeriksa berkas, mencatat hasil, dan meneruskan kepada pelaksana berikutnya",
            "pelaksana": roles[(nomor - 1) % len(roles)],
            "kelengkapan": [f"Berkas {nomor}", f"Formulir {nomor}"],
            "waktu": "15 menit" if nomor % 3 else "1-2 jam",
            "output": f"Berita acara {nomor}",
        }
        if nomor % 10 == 0 and nomor < steps:
            step.update({"simbol": "keputusan", "ya": nomor + 1, "tidak": nomor - 1})
        langkah.append(step)
    document = {"kode": kode, "nama": f"SOP Uji {steps} Langkah", "instansi": instansi, "zona_waktu": "WIB",
                "pelaksana": list(roles), "langkah": langkah}
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False).encode()


def _render_times(render, revision, repeat: int = 3) -> dict:
    """Wall time (the goal) and this process's CPU time (steadier on a machine others share)."""
    samples, cpu = [], []
    for _ in range(repeat):
        began, began_cpu = time.perf_counter(), time.process_time()
        pdf = render(revision, paper="a4")
        samples.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    return {"first_s": round(samples[0], 3), "median_s": round(statistics.median(samples), 3),
            "cpu_median_s": round(statistics.median(cpu[1:] or cpu), 3), "bytes": len(pdf)}


def pdf_measure(*, repeat: int = 3, steps: int = 100) -> dict:
    """Render times of the sheets, or "not available" when procedures.pdf is not there yet."""
    try:
        from procedures.pdf import render_sop_pdf
    except ImportError as error:
        return {"available": False, "reason": f"not available: {error}"}
    results = sop_import_files(files=[("bench-100.yaml", generated_sop(
        kode="bench-seratus-langkah", instansi=office_name(0), steps=steps))])
    if results[0].refused:
        raise RuntimeError("\n".join(results[0].lines()))
    sheets = {
        "000": SopRevision.objects.filter(sop__kode="satpolpp-bina-potensi-masyarakat", sop__office__name=office_name(0)).get(),
        "generated_100": SopRevision.objects.filter(sop__kode="bench-seratus-langkah").get(),
    }
    result = {"available": True}
    for name, revision in sheets.items():
        figures = _render_times(render_sop_pdf, revision, repeat)
        figures.update({"steps": revision.steps.count(), "roles": revision.columns.count(),
                        "goal_s": PDF_GOALS[name], "met": figures["median_s"] <= PDF_GOALS[name]})
        result[name] = figures
    return result


def import_files(count: int) -> list[tuple[str, bytes]]:
    """``count`` SOP files: the seeds under new codes, in one office made for the import."""
    texts = [path.read_text(encoding="utf-8") for path in SEEDS]
    files = []
    for number in range(count):
        text = texts[number % len(texts)]
        kode = f"impor-{number + 1:04d}"
        text = "\n".join(f"kode: {kode}" if line.startswith("kode:") else line for line in text.splitlines())
        files.append((f"{kode}.yaml", seed_copy(text, instansi="Badan Impor Contoh", zone="WIB")))
    return files


def import_measure(count: int = 1000) -> dict:
    files = import_files(count)
    began = time.perf_counter()
    results = sop_import_files(files=files)
    seconds = time.perf_counter() - began
    refused = [result.source for result in results if result.refused]
    return {
        "files": count, "steps": sum(text.count(b"\n  - nomor:") for _name, text in files),
        "seconds": round(seconds, 2), "refused": len(refused),
        "goal_s": IMPORT_GOAL, "met": seconds <= IMPORT_GOAL and not refused,
    }


def wrap_measure() -> dict:
    """Seconds to wrap one unbroken word of 2,000, 5,000 and 20,000 characters into a Keterangan
    cell, and to draw the run page's flowchart of a sheet whose step holds the 5,000-character one."""
    from procedures import flowchart
    from procedures.flowchart import Node, Sheet

    result = {}
    for length in WRAP_WORDS:
        word = ("abcdefghij" * (length // 10 + 1))[:length]
        began = time.perf_counter()
        lines = flowchart.wrap(word, 40.0)
        result[f"word_{length}_s"] = round(time.perf_counter() - began, 4)
        assert "".join(lines) == word
    word = "x" * 5_000
    nodes = (Node(1, "mulai", 0, "Mulai"), Node(2, "proses", 1, "Memeriksa", keterangan=word), Node(3, "selesai", 0, "Selesai"))
    began = time.perf_counter()
    flowchart.web_drawing(Sheet(columns=("Kepala", "Staf"), nodes=nodes, total="1 jam"))
    result["web_drawing_5000_s"] = round(time.perf_counter() - began, 4)
    return result


def main() -> None:
    """The sheet figures on a scratch SQLite database (see the module's docstring)."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    seed = SEEDS[0].read_text(encoding="utf-8")
    sop_import_files(files=[(SEEDS[0].name, seed_copy(seed, instansi=office_name(0), zone="WIB"))])
    figures = {"pdf": pdf_measure(repeat=int(os.environ.get("BENCH_PDF_REPEAT") or 3)), "wrap": wrap_measure(),
               "load_average": [round(value, 2) for value in os.getloadavg()]}
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
