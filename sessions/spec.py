"""What each step shows each role on the live page, written once.

The templates (sessions/live.html), the state reader (sessions/state.py), the
deltas (sessions/deltas.py) and the views' refusals all read this: which
composer forms a role has at a step, what the step's board reads, which
controls the board gives each role, and whether the header pins the demand.

The live page holds a pane per step, for its role, in the composer and in the
board; the header's step decides which one shows (static/js/live.js). So a
step change sends the header alone.
"""

from dataclasses import dataclass, field

from sessions.roles import AUDIENCES, CLIENT, CONSULTANT, FACILITATOR
from sessions.steps import ORDER, Step


@dataclass(frozen=True)
class StepSpec:
    # What the board reads for this step (sessions.state.load_state).
    board: frozenset = frozenset()
    # audience → the composer's forms, in order (open only when FORM_OPEN says).
    composer: dict = field(default_factory=dict)
    # audience → what the board lets that role do, or shows it alone.
    controls: dict = field(default_factory=dict)
    # The validated demand stays pinned in the header, above every form.
    pins_demand: bool = False


EVERYONE = dict.fromkeys(AUDIENCES)

SPEC = {
    Step.RETOUR: StepSpec(board=frozenset({"previous_actions"})),
    Step.EXPOSE: StepSpec(composer={FACILITATOR: ("expose",), CLIENT: ("expose",)}),
    Step.CLARIFICATION: StepSpec(
        board=frozenset({"questions"}),
        composer={CONSULTANT: ("question",)},
        # The client marks a question answered; the facilitator hides one and
        # alone still sees it.
        controls={CLIENT: {"answer"}, FACILITATOR: {"hide"}},
    ),
    Step.DEMAND: StepSpec(
        board=frozenset({"checks", "reformulations"}),
        composer={
            CLIENT: ("demand",),
            # What each understood, before the client settles the wording.
            CONSULTANT: ("reformulation", "demand_check"),
            FACILITATOR: ("demand_validate",),
        },
    ),
    Step.CONTRIBUTIONS: StepSpec(
        board=frozenset({"contributions", "themes", "checks"}),
        # The demand's forms only while the facilitator has reopened it.
        composer={
            CONSULTANT: ("demand_check", "contribution"),
            CLIENT: ("demand",),
            FACILITATOR: ("demand_validate",),
        },
        # The facilitator clusters the cards into themes (Metaplan); the
        # client's tags, of a card or a whole theme, are theirs alone
        # (ContributionTag).
        controls={FACILITATOR: {"themes"}, CLIENT: {"tag"}},
        pins_demand=True,
    ),
    Step.ACTION_PLAN: StepSpec(
        board=frozenset({"actions", "contributions", "themes"}),
        composer={CLIENT: ("action",)},
        # The client sees what they kept, and turns a card or a theme into an
        # action.
        controls={CLIENT: {"retained"}},
        pins_demand=True,
    ),
    Step.LEARNINGS: StepSpec(
        board=frozenset({"learnings", "feedback"}),
        # The client of a session « sans trace » chooses what the group keeps.
        composer={
            **dict.fromkeys(AUDIENCES, ("learning", "feedback")),
            CLIENT: ("kept", "learning", "feedback"),
        },
        controls={FACILITATOR: {"feedback_average"}},
    ),
}

# What the room screen shows of what the consultants are sent: the header, the
# board and the queue, never a composer, the presence, the setup or the
# feedback. Those that read the audience are drawn for the room itself; the
# others are the consultants' very text (sessions.deltas).
ROOM_PARTIALS = frozenset(
    {
        "header",
        "board-pane",
        "queue",
        "question",
        "card",
        "card-gone",
        "theme",
        "theme-name",
        "action",
        "learning",
        "reformulation",
        "hand",
        "hand-gone",
    }
)
ROOM_DRAWS_ITS_OWN = frozenset({"header", "board-pane", "queue"})


# A form is on screen only while it can be sent: the demand's three, until
# the contract is validated (and the consultants' and the facilitator's once
# there is a demand to answer).
def demand_open(session, step) -> bool:
    """The demand can be worded: at step 3 until the contract is validated, at
    step 4 while the facilitator has reopened it."""
    if session.demand_validated_at:
        return False
    return step == Step.DEMAND or (step == Step.CONTRIBUTIONS and bool(session.demand_reopened_at))


FORM_OPEN = {
    "kept": lambda session, step: session.no_trace,
    "demand": demand_open,
    "reformulation": demand_open,
    "demand_check": lambda session, step: bool(session.demand_text) and demand_open(session, step),
    "demand_validate": lambda session, step: (
        bool(session.demand_text) and demand_open(session, step)
    ),
}


def session_steps(session) -> list[str]:
    """The steps this session goes through, in order."""
    return ORDER if session.include_retour else ORDER[1:]


def composer_forms(session, audience: str, step: str | None = None) -> tuple[str, ...]:
    """The forms the composer shows `audience` at `step` (default: the session's).

    A refused post of one of these at the current step shows its errors in
    place; any other post cannot, so the view says why in the flash instead
    (sessions.views.live._handle).
    """
    step = step or session.step
    if session.status != "live" or not step:
        return ()
    names = SPEC[step].composer.get(audience, ())
    return tuple(name for name in names if FORM_OPEN.get(name, lambda *_: True)(session, step))


def board_content(session) -> set[str]:
    """What a live page's board reads: every step's, since it holds them all."""
    if session.status != "live":
        return set()
    return set().union(*(SPEC[step].board for step in session_steps(session)))


ALL_CONTENT = set().union(*(spec.board for spec in SPEC.values()))


@dataclass(frozen=True)
class Pane:
    """One step's part of the composer or the board, for one audience."""

    step: str
    shown: bool
    forms: tuple
    controls: frozenset

    def __contains__(self, control: str) -> bool:
        return control in self.controls


def pane(session, audience: str, step: str) -> Pane:
    return Pane(
        step=step,
        shown=step == session.step,
        forms=composer_forms(session, audience, step),
        controls=frozenset(SPEC[step].controls.get(audience, ())),
    )


def panes(session, audience: str) -> list[Pane]:
    if session.status != "live":
        return []
    return [pane(session, audience, step) for step in session_steps(session)]


def pins_demand(session) -> bool:
    """The header pins the validated demand, or the one reopened being reworded."""
    pinned = session.demand_validated_at or session.demand_reopened_at
    return bool(session.step and SPEC[session.step].pins_demand and pinned and session.demand_text)
