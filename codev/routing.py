from sessions.routing import websocket_urlpatterns as session_websockets

websocket_urlpatterns = [*session_websockets]
