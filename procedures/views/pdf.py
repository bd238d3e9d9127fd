"""The printable PDFs: an SOP's sheet and a run's report (see docs/pdf.md)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse

from procedures import pdf, selectors


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    # Inline: the browser shows it and offers to print; the name is used when it is saved.
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@login_required
def sop_pdf(request, kode: str):
    """The sheet of an SOP: the latest revision, ``?revisi=N`` another; ``?kertas=f4`` for F4 paper;
    ``?orientasi=lanskap`` for a landscape identity page (the whole sheet in one orientation).

    An unknown revision or paper is a 404, like a mistyped address: printing on A4 what was asked
    for on F4 would cut the sheet without a word.
    """
    standing = selectors.request_standing(request)
    sop = selectors.visible_sop(request.user, standing, kode)
    revisions = list(sop.revisions.all())
    wanted = (request.GET.get("revisi") or "").strip()
    if wanted:
        revision = next((r for r in revisions if str(r.number) == wanted), None)
    else:
        revision = max(revisions, key=lambda r: r.number, default=None)
    paper = (request.GET.get("kertas") or pdf.DEFAULT_PAPER).strip().lower()
    orientation = (request.GET.get("orientasi") or pdf.DEFAULT_ORIENTATION).strip().lower()
    if revision is None or paper not in pdf.PAPERS or orientation not in pdf.ORIENTATIONS:
        raise Http404
    revision.sop = sop  # its office is already read
    suffix = "" if paper == pdf.DEFAULT_PAPER else f"-{paper.upper()}"
    suffix += "" if orientation == pdf.DEFAULT_ORIENTATION else "-lanskap"
    return _pdf_response(pdf.render_sop_pdf(revision, paper=paper, orientation=orientation),
                         f"SOP-{sop.kode}-rev{revision.number}{suffix}.pdf")


@login_required
def run_pdf(request, pk: int):
    """The report of a run, for anyone who may open the run's page."""
    run = selectors.visible_run(request.user, pk)
    return _pdf_response(pdf.render_run_pdf(run), f"Pelaksanaan-{run.pk}.pdf")
