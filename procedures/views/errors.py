"""Error pages in the site's style and language.

Django's own handlers render ``templates/403.html``, ``404.html`` and ``500.html``; only the CSRF
failure needs a view of ours, since Django's default one is an English page without the layout.
"""

from django.shortcuts import render
from django.utils.translation import gettext as _


def csrf_failure(request, reason: str = ""):
    """A form sent with an expired or missing token (a page left open overnight): say what to do."""
    message = _("The form had expired, or the browser refused cookies. Go back, reload the page and send it again.")
    return render(request, "403.html", {"exception": message}, status=403)
