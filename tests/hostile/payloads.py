"""What a hostile person types, and how to tell that the app took it well.

Strategies (hypothesis) for form values and URL segments, and the checks every
hostile test shares: the page carries no script or htmx attribute that came
from user text, a refusal says why in French, a refused text is handed back.
"""

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.templatetags.static import static
from django.utils import timezone
from hypothesis import strategies as st

# Ordinary values the forms around a hostile field need to be valid.
NEW_PASSWORD = "une phrase de passe neuve 2031"
FUTURE = (timezone.now() + dt.timedelta(days=20)).strftime("%Y-%m-%dT%H:%M")

# Hand-written attacks, each with a marker (`pwned`, `alert(1)`) that no
# template of ours contains: if one of them survives as markup, the checks
# below find the marker in a script, an event handler or an hx- attribute.
ATTACKS = [
    "<script>alert(1)</script>",
    "</textarea><script>alert(1)</script>",
    '<div hx-get="/pwned" hx-trigger="load">pwned</div>',
    '<button hx-post="/pwned" hx-swap-oob="true" id="live-board">pwned</button>',
    '" onmouseover="alert(1)" x="',
    "' onfocus='alert(1)' autofocus='",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    '<a href="javascript:alert(1)">pwned</a>',
    "[pwned](javascript:alert(1))",
    "<iframe src=//evil.example/pwned></iframe>",
    "<style>body{display:none}</style>pwned",
    '<meta http-equiv="refresh" content="0;url=//evil.example/pwned">',
    "{{ request.user.password }}",
    "{% debug %}",
    "{% load static %}{% static 'pwned' %}",
    "<!-- pwned",
    "<![CDATA[pwned]]>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "# pwned\n- liste\n1. un\n> cité\n| a | b |\n`code` *gras* _it_",
    "\u202epwned\u202c \ufeff \u200b zéro",
    "𝕏 🎉 👩‍👩‍👧 ﷽",
    "a\x00b",
    "\r\n\r\n",
    "   ",
    "",
    "0",
    "-1",
    "1e309",
    "NaN",
    "99999999999999999999999",
]

_PIECES = st.one_of(
    st.sampled_from(ATTACKS),
    # Any character a browser can send: hypothesis's text() leaves out lone
    # surrogates, which cannot be encoded in UTF-8 and so never reach the app
    # (raw invalid bytes are tested separately).
    st.text(max_size=40),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)


def _long(piece: str, length: int) -> str:
    return (piece * (length // len(piece) + 1))[:length]


# Ten thousand to two hundred thousand characters, made of one repeated piece:
# generating that much random text would only slow hypothesis down.
LONG_TEXT = st.builds(
    _long,
    st.sampled_from(["x", "é", "<script>", "🎉", "a\n", "{{ x }}", "\x00"]),
    st.integers(min_value=10_000, max_value=200_000),
)

HOSTILE_TEXT = st.one_of(
    st.sampled_from(ATTACKS),
    st.lists(_PIECES, min_size=1, max_size=4).map("".join),
    LONG_TEXT,
)

# What hypothesis puts in a form field: nothing (the field is missing), one
# value, or the field repeated (a QueryDict keeps every value).
FIELD_VALUE = st.one_of(
    st.none(),
    HOSTILE_TEXT,
    st.lists(HOSTILE_TEXT, min_size=2, max_size=3),
)

# A URL segment where a code or token belongs.
GARBAGE_SEGMENT = st.one_of(
    st.sampled_from(["\x00", "%00", "..", "-1", "0", "a" * 300, "<script>", "é", " ", "null"]),
    st.text(min_size=1, max_size=30),
)


def quoted(segment: str) -> str:
    return quote(segment, safe="")


def form_data(fields: dict) -> dict:
    """The test client's data: a missing field is left out, a list repeats."""
    return {name: value for name, value in fields.items() if value is not None}


def last_value(value):
    """What the form reads from a repeated field: the last one."""
    return value[-1] if isinstance(value, list) else value


# --- reading an answer ---------------------------------------------------------

# The templates' own markup: every tag and hx- attribute a page may carry.
_TEMPLATE_TEXT = "\n".join(
    path.read_text() for path in (Path(settings.BASE_DIR) / "templates").rglob("*.html")
)
OUR_HX_ATTRIBUTES = set(re.findall(r"\b(hx-[a-z-]+)=", _TEMPLATE_TEXT)) | {
    # {% htmx_script %} and Django's widgets add none; hx-headers is on <body>.
    "hx-headers",
}
# Tags a page of ours may hold: the templates' own and Django's form widgets.
OUR_TAGS = set(re.findall(r"<([a-z][a-z0-9]*)\b", _TEMPLATE_TEXT)) | {
    "input",
    "textarea",
    "select",
    "option",
    "optgroup",
    "label",
    "div",
    "ul",
    "li",
    "br",
}
NEVER_OURS = {"iframe", "style", "object", "embed", "base", "frame", "frameset"}


class Page(HTMLParser):
    """The parts of an HTML answer the checks read."""

    def __init__(self, content: str):
        super().__init__(convert_charrefs=True)
        self.elements = []  # (tag, {attr: value})
        self.scripts = []  # (attrs, inline text)
        self.text_parts = []
        self.fields = {}  # name -> [values], for input and textarea
        self.errors = []  # the texts a refusal shows
        self._stack = []
        self.feed(content)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs))
        classes = set((attrs.get("class") or "").split())
        error = bool(classes & {"error", "form-errors", "message-error", "errorlist"})
        error = error or (attrs.get("role") == "alert" and tag != "section")
        # A hidden one shows nothing (the « Pas de réseau » line, kept for the JS).
        error = error and "hidden" not in attrs
        if tag == "input" and attrs.get("name"):
            self.fields.setdefault(attrs["name"], []).append(attrs.get("value") or "")
        entry = {"tag": tag, "attrs": attrs, "data": [], "error": error}
        if tag not in {"input", "br", "img", "meta", "link", "hr"}:
            self._stack.append(entry)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if self._stack and self._stack[-1]["tag"] == tag:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        while self._stack:
            entry = self._stack.pop()
            text = "".join(entry["data"])
            if entry["tag"] == "script":
                self.scripts.append((entry["attrs"], text))
            elif entry["tag"] == "textarea":
                # The template puts a newline after <textarea>; browsers drop it.
                value = text[1:] if text.startswith("\n") else text
                name = entry["attrs"].get("name") or entry["attrs"].get("class", "")
                self.fields.setdefault(name, []).append(value)
            if entry["error"] and text.strip():
                self.errors.append(" ".join(text.split()))
            if self._stack:
                self._stack[-1]["data"].append(text)
            if entry["tag"] == tag:
                break

    def handle_data(self, data):
        in_script = any(entry["tag"] in ("script", "style") for entry in self._stack)
        if not in_script:
            self.text_parts.append(data)
        if self._stack:
            self._stack[-1]["data"].append(data)

    @property
    def text(self) -> str:
        return " ".join("".join(self.text_parts).split())


def assert_inert(content: str, where: str = "") -> Page:
    """No script, event handler, hx- attribute or foreign element from user text."""
    page = Page(content)
    for attrs, inline in page.scripts:
        # Our pages load scripts from /static/ only; never an inline one.
        assert (attrs.get("src") or "").startswith(static("")), f"{where}: script {attrs}"
        assert not inline.strip(), f"{where}: inline script {inline[:80]!r}"
    for tag, attrs in page.elements:
        assert tag in OUR_TAGS and tag not in NEVER_OURS, f"{where}: element <{tag}> {attrs}"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"{where}: <{tag} {name}={value!r}>"
            if name.startswith("hx-"):
                assert name in OUR_HX_ATTRIBUTES, f"{where}: <{tag} {name}={value!r}>"
                assert "pwned" not in (value or ""), f"{where}: <{tag} {name}={value!r}>"
            if name in ("href", "src", "action", "formaction"):
                assert not (value or "").strip().lower().startswith("javascript:"), where
        if tag == "meta":
            assert "http-equiv" not in attrs or attrs.get("http-equiv") != "refresh", where
    return page


# A refusal must say why in French. A small test, not a language detector:
# French function words present, English ones absent (Django's English
# messages, "This field is required.", "Ensure this value…", would fail it).
_FRENCH = {
    "le", "la", "les", "de", "des", "du", "un", "une", "est", "pas", "ce", "cette",
    "vous", "votre", "vos", "au", "aux", "en", "et", "ou", "à", "sur", "pour", "avec",
    "caractères", "champ", "obligatoire", "valide", "saisissez", "choisissez",
    "sélectionnez", "assurez", "séance", "étape", "ne", "n", "d", "l", "qu", "c",
    "introuvable", "page", "accès", "déjà", "plus", "moins", "que", "choix",
}  # fmt: skip
_ENGLISH = {
    "the", "this", "is", "enter", "ensure", "select", "field", "required", "not",
    "found", "forbidden", "please", "value", "has", "at", "most", "must", "and",
    "of", "that", "you", "your", "characters", "allowed", "invalid",
}  # fmt: skip


def looks_french(text: str, typed=()) -> bool:
    for value in sorted((v for v in typed if v and v.strip()), key=len, reverse=True):
        text = text.replace(value, " ")
    words = re.findall(r"[^\W\d_]+", text.lower())
    return sum(w in _FRENCH for w in words) >= 2 and not any(w in _ENGLISH for w in words)


def assert_french_refusal(page: Page, typed=(), where: str = "") -> None:
    """The refusal shows at least one error, and every error is French."""
    assert page.errors, f"{where}: refused without an error message"
    for error in page.errors:
        assert looks_french(error, typed), f"{where}: not French: {error[:200]!r}"


def typed_values(data: dict) -> list[str]:
    values = []
    for value in data.values():
        values.extend(value if isinstance(value, list) else [value])
    return [v for v in values if isinstance(v, str)]
