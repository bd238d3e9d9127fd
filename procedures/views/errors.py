"""Error pages in the site's style and language.

Django's own handlers render ``templates/403.html`` and ``500.html`` (and ``400.html``); the 404
and the CSRF failure have views of ours: a 404 may carry a message for the user (``Missing``),
and Django's CSRF page is an English page without the layout.
"""

from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _


class Missing(Http404):
    """A 404 whose message is written for the user, in their language: the 404 page shows it.

    Other 404s (a mistyped address, ``get_object_or_404``) carry Django's English messages for
    developers, which the page leaves out.
    """


def page_not_found(request, exception=None):
    message = str(exception) if isinstance(exception, Missing) else ""
    response = render(request, "404.html", {"message": message}, status=404)
    response.site_page = True  # the site's own page: SiteNotFoundMiddleware leaves it (DEBUG on)
    return response


def csrf_failure(request, reason: str = ""):
    """A form sent with an expired or missing token (a page left open overnight): say what to do."""
    message = _("The form had expired, or the browser refused cookies. Go back, reload the page and send it again.")
    return render(request, "403.html", {"exception": message}, status=403)
