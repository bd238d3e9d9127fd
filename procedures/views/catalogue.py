"""The run list of an office and the SOP catalogue."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def run_list(request):
    return HttpResponse("TODO")


@login_required
def sop_list(request):
    return HttpResponse("TODO")


@login_required
def sop_detail(request, kode):
    return HttpResponse("TODO")
