"""User text in the Markdown exports (compte rendu, carnet de bord, my data)."""

import re

_MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]<>|])")
_MARKDOWN_LINE_START = re.compile(r"^(\s*)([#+=-])", re.MULTILINE)
_MARKDOWN_NUMBERED = re.compile(r"^(\s*\d+)([.)])", re.MULTILINE)


def markdown_literal(text: str) -> str:
    """Text shown as typed in any Markdown reader: no markup, no raw HTML.

    Continuation lines are indented so that a multi-line card stays inside its
    list item.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    text = _MARKDOWN_INLINE.sub(r"\\\1", text)
    text = _MARKDOWN_LINE_START.sub(r"\1\\\2", text)
    text = _MARKDOWN_NUMBERED.sub(r"\1\\\2", text)
    return text.replace("\n", "\n  ")
