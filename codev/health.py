"""GET /healthz, for a load balancer or docker compose: the process answers and
so does its database.

Answered before every middleware but the three that add the security headers
(with the HTTPS redirect exempted for it): a health check comes from the proxy
or the container itself, over plain HTTP and with whatever Host header, which
the redirect and ALLOWED_HOSTS would refuse. Redis is not checked: without it
every page is served and every POST saved (docs/operations.md), and all the
processes share it, so taking them out of the pool would only make it worse.
"""

import logging

from django.db import connection
from django.http import HttpResponse

logger = logging.getLogger(__name__)

PATH = "/healthz"


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path != PATH:
            return self.get_response(request)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception:
            logger.exception("Health check: the database does not answer")
            return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
        return HttpResponse("ok\n", content_type="text/plain")
