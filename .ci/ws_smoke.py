"""Smoke test of a running `make run`: sign in as a demo member, open the next
session's websocket and expect the handshake to be accepted (101).

Standard library only: it runs before or without the project's virtualenv.
Usage: python3 .ci/ws_smoke.py http://127.0.0.1:PORT
"""

import base64
import http.cookiejar
import os
import re
import socket
import sys
import urllib.parse
import urllib.request

base = sys.argv[1].rstrip("/")
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

login_page = opener.open(f"{base}/accounts/login/").read().decode()
token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page).group(1)
form = urllib.parse.urlencode(
    {
        "csrfmiddlewaretoken": token,
        "username": "claire@demo.codev",
        "password": "codev-demo",
    }
).encode()
# Only ever the local http:// server given on the command line.
request = urllib.request.Request(f"{base}/accounts/login/", data=form, headers={"Referer": base})  # noqa: S310
home = opener.open(request).read().decode()
code = re.search(r'href="/s/([a-z0-9]+)/"', home).group(1)
cookies = "; ".join(f"{c.name}={c.value}" for c in jar)

host = urllib.parse.urlsplit(base)
key = base64.b64encode(os.urandom(16)).decode()
handshake = (
    f"GET /ws/sessions/{code}/ HTTP/1.1\r\n"
    f"Host: {host.netloc}\r\n"
    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
    f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
    f"Origin: {base}\r\nCookie: {cookies}\r\n\r\n"
)
with socket.create_connection((host.hostname, host.port), timeout=10) as sock:
    sock.sendall(handshake.encode())
    status = sock.recv(4096).decode(errors="replace").split("\r\n", 1)[0]
print(f"websocket /ws/sessions/{code}/: {status}")
sys.exit(0 if " 101 " in status else 1)
