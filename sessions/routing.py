from django.urls import re_path

from sessions.consumers import SessionConsumer

websocket_urlpatterns = [
    # Only what a session code can be (groups.tokens.short_code, 16 at most):
    # a NUL, a slash-free garbage string or a 10 kB code never reaches the
    # database, whose lookup would fail on a NUL; it falls to codev's refusal.
    re_path(r"^ws/sessions/(?P<code>[A-Za-z0-9_-]{1,16})/$", SessionConsumer.as_asgi()),
    # The room screen's socket (/s/<code>/salle/).
    re_path(
        r"^ws/sessions/(?P<code>[A-Za-z0-9_-]{1,16})/salle/$",
        SessionConsumer.as_asgi(screen=True),
    ),
]
