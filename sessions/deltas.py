"""What one change sends to the live page: that change alone.

A new card, question, learning or hand is its item's partial, appended out of
band to its list; a changed one replaces its twin by id; a step change is the
header. Each part is drawn once per audience that sees it differently
(`shared` when all the audiences named see the same HTML), in each language an
open socket reads, from what the write itself returned or read inside its
transaction: nothing is read again to draw it.

Every message starts with its envelope: the version it applies to and the
version it produces (static/js/live.js). A page whose version is not the
first asks for the full state instead of guessing.
"""

from django.template.loader import render_to_string
from django.utils import translation

from sessions import spec
from sessions.roles import AUDIENCES, CONSULTANT, ROOM
from sessions.state import SERVER_NOW_MARK, LiveState, base_context

TEMPLATE = "sessions/live.html"


def envelope(to_version: int, *, full=False) -> str:
    """The mark a message opens with (static/js/live.js reads it)."""
    if full:
        return f'<template data-sync data-full data-to="{to_version}"></template>'
    return f'<template data-sync data-from="{to_version - 1}" data-to="{to_version}"></template>'


class Delta:
    """The parts of one change, for the audiences that see each of them."""

    def __init__(self, claimed):
        self.claimed = claimed
        self.session = claimed.session
        self.parts = []

    def add(self, partial, *, audiences=AUDIENCES, shared=False, step=None, **context):
        """Draw `partial` for `audiences`; `shared`: once, the same for all of them.

        `step`: the pane it belongs to, whose controls per role the partial reads.
        """
        self.parts.append((partial, tuple(audiences), shared, step, context))
        return self

    def append(self, list_id, partial, **kwargs):
        """An item at the end of the list `list_id`."""
        return self.add(partial, wrap=f'<div hx-swap-oob="beforeend:#{list_id}">', **kwargs)

    def replace(self, partial, **kwargs):
        """An item, or a pane, in place of its twin of the same id."""
        return self.add(partial, oob=True, **kwargs)

    def _render_one(self, partial, audience, step, context):
        base = base_context(self.session, audience)
        base["server_now"] = SERVER_NOW_MARK
        if step is not None:
            base["pane"] = spec.pane(self.session, audience, step)
        wrap = context.pop("wrap", None)
        html = render_to_string(f"{TEMPLATE}#{partial}", base | context)
        return f"{wrap}{html}</div>" if wrap else html

    def render(self) -> dict[str, dict[str, str]]:
        """{language: {audience: html}}, each opening with the envelope.

        The room screen (sessions.roles.ROOM), in the languages open room
        screens read, gets what the consultants get of the parts it shows
        (spec.ROOM_PARTIALS): their very text, or its own drawing of the
        parts that read the audience (spec.ROOM_DRAWS_ITS_OWN).
        """
        head = envelope(self.session.version)
        rendered = {}
        for language in sorted(self.claimed.languages):
            room = language in self.claimed.room_languages
            screens = (*AUDIENCES, ROOM) if room else AUDIENCES
            with translation.override(language):
                html = {audience: [head] for audience in screens}
                for partial, audiences, shared, step, context in self.parts:
                    if shared:
                        text = self._render_one(partial, audiences[0], step, dict(context))
                        texts = dict.fromkeys(audiences, text)
                    else:
                        texts = {
                            audience: self._render_one(partial, audience, step, dict(context))
                            for audience in audiences
                        }
                    if room and CONSULTANT in audiences and partial in spec.ROOM_PARTIALS:
                        texts[ROOM] = (
                            self._render_one(partial, ROOM, step, dict(context))
                            if partial in spec.ROOM_DRAWS_ITS_OWN
                            else texts[CONSULTANT]
                        )
                    for audience, text in texts.items():
                        html[audience].append(text)
            rendered[language] = {audience: "".join(parts) for audience, parts in html.items()}
        return rendered


def board_state(session, **content) -> LiveState:
    """A state holding only what a partial of the board reads."""
    return LiveState(session=session, memberships=[], roles={}, present_user_ids=set(), **content)
