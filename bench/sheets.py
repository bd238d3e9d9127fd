"""SOP sheets: PDF render time (000 and a generated 100-step, 8-role SOP) and the import of 1,000
generated SOP files through the library, as `import_sops` and the admin do it."""

from __future__ import annotations

import statistics
import time

import yaml

from bench.data import SEEDS, office_name, seed_copy
from procedures.library import sop_import_files
from procedures.models import SopRevision

PDF_GOALS = {"000": 0.5, "generated_100": 2.0}  # the generated sheet has BENCH_PDF_STEPS steps (100)
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
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        pdf = render(revision, paper="a4")
        samples.append(time.perf_counter() - began)
    return {"first_s": round(samples[0], 3), "median_s": round(statistics.median(samples), 3), "bytes": len(pdf)}


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
