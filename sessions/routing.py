# The live session's consumer is routed here (see the live-session issue).
websocket_urlpatterns = []
