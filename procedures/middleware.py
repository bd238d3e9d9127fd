"""Middleware of sopflow: the site's language, the Content-Security-Policy, and odd addresses."""

from csp.constants import NONE, SELF, UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.main import ERROR_FLAG
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _


class SiteLanguageMiddleware:
    """Bahasa Indonesia for everyone unless they chose another language on the site.

    Django's LocaleMiddleware would follow the browser's Accept-Language, and many office
    computers run an English browser; the language cookie (set by the language switch) wins.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's header (``settings.CONTENT_SECURITY_POLICY``), with two exceptions by response:

    * under /admin/, the hashes of Django's own inline styles (``CSP_ADMIN_STYLE_HASHES``);
    * a PDF gets a policy of its own: no script, no request, no framing, but the plugin and
      inline styles Chromium's PDF viewer uses for the page it builds around the document
      (crbug.com/271452). A PDF has no HTML of ours in which text could become markup.
    """

    PDF_POLICY = {
        "default-src": [NONE],
        "object-src": [SELF],
        "style-src": [UNSAFE_INLINE],
        "base-uri": [NONE],
        "form-action": [NONE],
        "frame-ancestors": [NONE],
    }

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only or parts.config is not None:
            return parts
        if response.get("Content-Type", "").startswith("application/pdf"):
            parts.config = dict(self.PDF_POLICY)
        elif request.path.startswith(_admin_prefix()):
            parts.update = {**(parts.update or {}), "style-src": settings.CSP_ADMIN_STYLE_HASHES}
        return parts


def _admin_prefix() -> str:
    return reverse("admin:index")


class NulInAddressMiddleware:
    """An address whose query string holds a NUL character gets the 400 page with a message.

    No page reads one, and PostgreSQL refuses to compare text with it (an admin search or filter
    would be a 500). Form fields are Django's: its CharField refuses NUL with a message.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "")
        if ("%00" in query or "\x00" in query) and any(
            "\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()
        ):
            message = _("The address holds a NUL character, which no page can read. Open the page from its link "
                        "or remove what follows the “?” in the address.")
            return render(request, "400.html", {"message": message}, status=400)
        return self.get_response(request)


class AdminListFiltersMiddleware:
    """Odd filters of an admin list: Django's admin returns to the whole list (``?e=1``) for a
    filter it cannot read, but lets a date-hierarchy year past 9999 through as an OverflowError
    (a 500), and says nothing. Here both return to the list, with a message saying why."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 302 and response.get("Location") == f"{request.path}?{ERROR_FLAG}=1" \
                and _is_admin_list(request):
            messages.warning(request, _("The list could not be filtered that way; it is shown whole."))
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, OverflowError) and _is_admin_list(request):
            # To the list with nothing but the flag: no loop, whatever else the address held.
            return HttpResponseRedirect(f"{request.path}?{ERROR_FLAG}=1")
        return None


def _is_admin_list(request) -> bool:
    match = request.resolver_match
    return bool(match and match.namespace == "admin" and (match.url_name or "").endswith("_changelist"))


class SiteNotFoundMiddleware:
    """The site's own 404 page (``templates/404.html``, in the user's language) also with ``DEBUG`` on.

    With ``DEBUG`` off Django already calls ``handler404``; with it on, Django shows its technical
    page in English, which a demo on a laptop must not show an office. A view's ``Http404`` (a
    ``Missing`` with its message) is answered here; an address no pattern matches comes back from
    the inner layers as Django's page and is replaced.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.DEBUG and response.status_code == 404 and not getattr(response, "site_page", False) \
                and response.get("Content-Type", "").startswith("text/html"):
            return self._page(request, None)
        return response

    def process_exception(self, request, exception):
        if settings.DEBUG and isinstance(exception, Http404):
            return self._page(request, exception)
        return None

    @staticmethod
    def _page(request, exception):
        from procedures.views.errors import page_not_found

        return page_not_found(request, exception)
