"""What a screen shows of the live page's HTML: without what is hidden.

The live page holds every step's panes, and shows the one of the current
step (sessions/spec.py); a role's placeholders (a hidden question, a card
not kept) are hidden too. Tests that read what a person sees at a step read
it through `shown`.
"""

from html.parser import HTMLParser

VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr",
}  # fmt: skip


class _Shown(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.out = []
        self.skipping = 0  # depth inside a hidden element

    def handle_starttag(self, tag, attrs):
        if self.skipping:
            if tag not in VOID:
                self.skipping += 1
            return
        if any(name == "hidden" for name, _value in attrs) and tag not in VOID:
            self.skipping = 1
            return
        self.out.append(self.get_starttag_text())

    def handle_startendtag(self, tag, attrs):
        if not self.skipping:
            self.out.append(self.get_starttag_text())

    def handle_endtag(self, tag):
        if self.skipping:
            if tag not in VOID:
                self.skipping -= 1
            return
        self.out.append(f"</{tag}>")

    def _text(self, text):
        if not self.skipping:
            self.out.append(text)

    handle_data = _text

    def handle_entityref(self, name):
        self._text(f"&{name};")

    def handle_charref(self, name):
        self._text(f"&#{name};")

    def handle_comment(self, data):
        self._text(f"<!--{data}-->")


def shown(html: str) -> str:
    parser = _Shown()
    parser.feed(html)
    parser.close()
    return "".join(parser.out)
