"""The bare floor of `make bench`: the same sockets and channel layer, nothing else.

A websocket joins group `floor-<n>`; `POST /relay/<n>/<version>/<size>/` sends
one message of `size` characters to that group. No database, no template, no
Django request cycle: what is left is daphne, the channel layer and the socket
writes, which Codev's own fan-out cannot go below.
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "codev.settings")
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.layers import get_channel_layer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402


def payload(version: int, size: int) -> str:
    head = f'<div id="floor" data-version="{version}">'
    return head + "x" * max(0, size - len(head) - 6) + "</div>"


class FloorConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.group = f"floor-{self.scope['url_route']['kwargs']['n']}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send(text_data=payload(0, 64))

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def relay(self, event):
        await self.send(text_data=event["text"])


async def relay(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    parts = scope["path"].strip("/").split("/")
    status = 404
    if len(parts) == 4 and parts[0] == "relay" and all(p.isdigit() for p in parts[1:]):
        n, version, size = (int(p) for p in parts[1:])
        message = {"type": "relay", "text": payload(version, size)}
        await get_channel_layer().group_send(f"floor-{n}", message)
        status = 204
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b""})


application = ProtocolTypeRouter(
    {
        "http": relay,
        "websocket": URLRouter([path("ws/floor/<int:n>/", FloorConsumer.as_asgi())]),
    }
)
