from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class LanguageCookieMiddleware(LocaleMiddleware):
    """French unless the person picked another language with the switch.

    Django's LocaleMiddleware also follows the browser's Accept-Language, which
    would show English to every phone set to English in a French-speaking
    group. Codev follows only the language cookie that the switch sets.
    """

    def process_request(self, request):
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
