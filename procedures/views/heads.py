"""Pages for heads: approvals (Persetujuan), upcoming work (Akan datang), overdue (Terlambat)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def approvals(request):
    return HttpResponse("TODO")


@login_required
def approvals_bulk(request):
    return HttpResponse("TODO")


@login_required
def upcoming(request):
    return HttpResponse("TODO")


@login_required
def overdue(request):
    return HttpResponse("TODO")
