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
