from django.urls import re_path

from codev.websocket import refuse
from sessions.routing import websocket_urlpatterns as session_websockets

websocket_urlpatterns = [
    *session_websockets,
    # Anything else, refused cleanly (codev/websocket.py).
    re_path(r"", refuse),
]
