from urllib.parse import unquote_plus

from axes.middleware import AxesMiddleware
from django.conf import settings
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.core.handlers.exception import get_exception_response
from django.http import Http404, HttpResponseNotAllowed
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import render
from django.urls import Resolver404, get_resolver, get_urlconf, resolve
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
            # Answered here rather than raised: raised, it would get Django's
            # technical page under DEBUG (RefusalPageMiddleware).
            return refusal_page(request, 400, BadRequest("NUL character in the URL"))
        return None


def refusal_page(request, status: int, exception: Exception):
    """The page Django's handler for `status` gives without DEBUG
    (templates/400.html, 404.html)."""
    return get_exception_response(request, get_resolver(get_urlconf()), status, exception)


class RefusalPageMiddleware(MiddlewareMixin):
    """With DEBUG on, a refusal gets the page it gets in production.

    Under DEBUG, Django answers a 404 (an unknown address, or a stranger
    refused a group's page) and a 400 raised by a view with its technical
    page: in English, outside the layout, listing every URL pattern, wider
    than a phone. `make run` runs with DEBUG on, and a newcomer trying the
    site is refused like anyone. So the handlers used without DEBUG answer
    here too. A 500 keeps Django's technical page, which is what DEBUG is
    for. Without DEBUG, this does nothing: Django's own handling is the same.
    Placed after CommonMiddleware, whose slash redirect still applies to
    the 404 it gets back.
    """

    def process_request(self, request):
        if not settings.DEBUG:
            return None
        try:
            resolve(request.path_info, getattr(request, "urlconf", None))
        except Resolver404 as unknown:
            return refusal_page(request, 404, unknown)
        return None

    def process_exception(self, request, exception):
        if not settings.DEBUG:
            return None
        if isinstance(exception, Http404):
            return refusal_page(request, 404, exception)
        if isinstance(exception, (BadRequest, SuspiciousOperation)):
            return refusal_page(request, 400, exception)
        return None


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
