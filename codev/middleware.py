from urllib.parse import unquote_plus

from axes.middleware import AxesMiddleware
from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import HttpResponseNotAllowed
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import render
from django.utils import translation
from django.utils.deprecation import MiddlewareMixin


class LanguageCookieMiddleware(LocaleMiddleware):
    """French unless the person picked another language with the switch.

    Django's LocaleMiddleware also follows the browser's Accept-Language, which
    would show English to every phone set to English in a French-speaking
    group. Codev follows only the language cookie that the switch sets.
    """

    def process_request(self, request):
        translation.activate(chosen_language(request.COOKIES))
        request.LANGUAGE_CODE = translation.get_language()


def chosen_language(cookies) -> str:
    """The language of the switch's cookie, else French (pages and sockets alike)."""
    language = cookies.get(settings.LANGUAGE_COOKIE_NAME)
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


class RefuseNulMiddleware(MiddlewareMixin):
    """A URL holding a NUL character is refused (400) before any view runs.

    No code, token or search term contains one, and PostgreSQL cannot compare
    text with it: the view's lookup would raise DataError, a 500, where a
    garbage code must get a 404. Form fields need no such guard: Django's
    CharField and ModelChoiceField refuse NUL with a message of their own.
    """

    def process_request(self, request):
        query = unquote_plus(request.META.get("QUERY_STRING", ""))
        if "\x00" in request.path_info or "\x00" in query:
            raise BadRequest("NUL character in the URL")


class NotAllowedPageMiddleware(MiddlewareMixin):
    """A 405 (a POST-only address opened as a link, say) gets a page in French.

    @require_POST and @require_GET answer with an empty body, and Django has no
    handler405 to give a template to. The page keeps the Allow header. Placed
    after the messages and auth middleware: the layout reads both.
    """

    def process_response(self, request, response):
        if not isinstance(response, HttpResponseNotAllowed) or response.content:
            return response
        allowed = response["Allow"]
        methods = {method.strip() for method in allowed.split(",")}
        page = render(request, "405.html", {"form_only": "GET" not in methods}, status=405)
        page["Allow"] = allowed
        return page


class SyncAxesMiddleware(AxesMiddleware):
    """django-axes' middleware, last in the chain as it asks, and sync only.

    Django's ASGI handler runs each middleware in the mode of the one below
    it. With an async-capable one at the bottom, the whole chain from
    SessionMiddleware down ran async, and every `MiddlewareMixin` hopped to a
    thread and back for each of its hooks: a dozen hops per request, a tenth
    of a click's CPU (docs/performance.md). Sync at the bottom, the chain runs
    in one thread from top to bottom, as under WSGI.
    """

    async_capable = False
