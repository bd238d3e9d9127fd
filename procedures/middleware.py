from csp.constants import NONE, SELF, UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.utils import translation


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
    from django.urls import reverse

    return reverse("admin:index")
