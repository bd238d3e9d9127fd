"""Uploads too large for sopflow, refused before they are stored: the web layer's guard.

* :class:`RequestSizeMiddleware`: a request whose body is larger than ``REQUEST_BODY_MAX_BYTES``
  (its Content-Length says so) gets the 413 page stating the limits, before anything reads it.
* :class:`SizeLimitUploadHandler`: a single file larger than any file sopflow accepts is not kept:
  its bytes are counted and dropped as they arrive, and the form receives an empty stand-in that
  has the file's name and real size. What takes the file then refuses it by its size with its
  usual message (the engine for task outputs, the SOP import for SOP files): the limit stated,
  the file named, nothing of it written to memory or disk beyond the limit.
"""

from __future__ import annotations

import io
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.shortcuts import render
from django.utils import formats
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _


def largest_file() -> int:
    """The largest file any form of sopflow accepts; a file past it is never kept."""
    return max(settings.TASK_UPLOAD_MAX_BYTES, settings.SOP_FILE_MAX_BYTES)


def megabytes(size: int) -> str:
    """A size in MB with one decimal, in the active language's format ("10,0" in Indonesian)."""
    return formats.number_format(size / 1024 / 1024, decimal_pos=1, use_l10n=True)


def allowed_extensions() -> list[str]:
    """The file types a task output may have, as lower-case extensions without the dot, sorted."""
    return sorted({ext.lower().lstrip(".") for ext in settings.TASK_UPLOAD_EXTENSIONS})


# Types a browser may show in place (``Content-Disposition: inline``): images and PDF only, each
# served with its own fixed type whatever the upload claimed (and ``nosniff``), so that no upload
# is ever rendered as HTML or SVG (script) on sopflow's origin. Every other type is downloaded.
INLINE_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
}


def inline_type(filename: str) -> str | None:
    """The content type to show ``filename`` in the browser with, or None to download it."""
    return INLINE_TYPES.get(Path(filename).suffix.lower().lstrip("."))


class SizeLimitUploadHandler(FileUploadHandler):
    """First of ``FILE_UPLOAD_HANDLERS``: passes a file's chunks on to Django's handlers until the
    file grows past :func:`largest_file`, then keeps counting but passes nothing on."""

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.seen = 0
        self.limit = largest_file()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.seen += len(raw_data)
        return raw_data if self.seen <= self.limit else None

    def file_complete(self, file_size: int) -> InMemoryUploadedFile | None:
        if self.seen <= self.limit:
            return None  # Django's handlers have the whole file
        # Larger than any limit: whoever takes it refuses it by ``size`` without reading it.
        return InMemoryUploadedFile(
            io.BytesIO(), self.field_name, self.file_name, self.content_type, self.seen, self.charset,
            self.content_type_extra,
        )


class RequestSizeMiddleware:
    """A body past ``REQUEST_BODY_MAX_BYTES`` is refused by its Content-Length, unread, with a page
    that states the limits (413). Placed after authentication (the page shows who is signed in)
    and before anything that reads the body (CSRF reads the form in its view check)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.REQUEST_BODY_MAX_BYTES
        if length <= limit:
            return self.get_response(request)
        back = request.META.get("HTTP_REFERER", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
            back = "/"
        message = _("What you sent is %(size)s MB; sopflow takes at most %(limit)s MB at once, and a file "
                    "of at most %(file_limit)s MB. Nothing was saved: go back and send fewer or smaller "
                    "files.") % {"size": megabytes(length), "limit": megabytes(limit),
                                 "file_limit": megabytes(settings.TASK_UPLOAD_MAX_BYTES)}
        return render(request, "413.html", {"message": message, "back": back}, status=413)
