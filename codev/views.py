"""The project's own error answers that Django asks the settings for.

The 400, 403 and 404 pages need no view: Django's default handlers render
templates/400.html, 403.html and 404.html with the request. A CSRF failure goes
through CSRF_FAILURE_VIEW instead, whose default page is in English and outside
the layout.
"""

from django.shortcuts import render


def csrf_failure(request, reason=""):
    """A POST whose form could not be verified: nothing was saved.

    Mostly a page left open while its CSRF token changed (a sign-in in another
    tab, the cookie gone), else a forged POST. Django has already logged
    `reason` (logger django.security.csrf); the person gets plain words and the
    way out: back, copy their text, reload, send again. Rendering the layout
    also sets a fresh CSRF cookie, which the reloaded page then carries.

    An htmx POST gets only the message, aimed at the layout's #request-error
    (HX-Retarget): static/js/page.js shows it without touching the form, so the
    typed text stays on screen.
    """
    if request.htmx:
        response = render(request, "403_csrf.html#message", status=403)
        response["HX-Retarget"] = "#request-error"
        response["HX-Reswap"] = "innerHTML"
        return response
    return render(request, "403_csrf.html", status=403)
