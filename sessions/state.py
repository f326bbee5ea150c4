"""A session's whole live state, read once and rendered once per audience.

The broadcast and every (re)connect use these two functions: the regions a
phone receives after a change are exactly those it gets on reconnect.
"""

from dataclasses import dataclass, field

from django.db.models import Avg, Count
from django.template.loader import render_to_string
from django.utils import timezone

from groups.models import Membership
from sessions import forms, steps
from sessions.models import ActionItem, Participation, Session
from sessions.roles import AUDIENCES, FACILITATOR, role_map


@dataclass
class LiveState:
    session: Session
    memberships: list
    roles: dict
    questions: list
    contributions: list
    actions: list
    learnings: list
    checks: list
    hands: list
    present_user_ids: set
    feedback_count: int
    feedback_average: float | None
    previous_actions: list = field(default_factory=list)

    @property
    def people(self):
        """Each member with their role and whether a socket of theirs is open."""
        return [
            {
                "user": m.user,
                "role": self.roles[m.user_id],
                "role_label": Participation.Role(self.roles[m.user_id]).label,
                "online": m.user_id in self.present_user_ids,
            }
            for m in self.memberships
        ]

    @property
    def client(self):
        return next((m.user for m in self.memberships if self.roles[m.user_id] == "client"), None)

    @property
    def facilitator(self):
        return next(
            (m.user for m in self.memberships if self.roles[m.user_id] == FACILITATOR), None
        )

    @property
    def understood_count(self):
        return sum(1 for check in self.checks if check.verdict == "understood")


def load_state(session_id: int) -> LiveState:
    """A fixed number of queries, however much the session holds."""
    session = (
        Session.objects.select_related("group")
        .prefetch_related("participations")
        .get(pk=session_id)
    )
    memberships = list(Membership.objects.filter(group_id=session.group_id).select_related("user"))
    feedback = session.feedbacks.aggregate(count=Count("pk"), average=Avg("rating"))
    state = LiveState(
        session=session,
        memberships=memberships,
        roles=role_map(session, memberships),
        questions=list(session.questions.select_related("author")),
        contributions=list(session.contributions.select_related("author")),
        actions=list(session.actionitems.select_related("contribution")),
        learnings=list(session.learnings.select_related("author")),
        checks=list(session.demandchecks.select_related("author")),
        hands=list(session.handraises.select_related("author")),
        present_user_ids=set(session.presences.values_list("user_id", flat=True)),
        feedback_count=feedback["count"],
        feedback_average=feedback["average"],
    )
    if session.step == steps.Step.RETOUR:
        state.previous_actions = previous_actions(session)
    return state


def previous_session(session: Session) -> Session | None:
    """The group's last closed session before this one."""
    return (
        Session.objects.filter(
            group_id=session.group_id,
            status=Session.Status.CLOSED,
            scheduled_at__lt=session.scheduled_at,
        )
        .order_by("-scheduled_at")
        .first()
    )


def previous_actions(session: Session) -> list:
    previous = previous_session(session)
    if previous is None:
        return []
    return list(ActionItem.objects.filter(session=previous).select_related("author"))


def render_regions(state: LiveState, audience: str, request=None, *, bound=None, **extra) -> str:
    """Every region of the live page for one audience, as out-of-band swaps."""
    context = context_for(state, audience, bound=bound) | extra
    return render_to_string("sessions/live.html#regions", context, request=request)


def render_all_audiences(state: LiveState) -> dict[str, str]:
    return {audience: render_regions(state, audience) for audience in AUDIENCES}


def default_forms(state: LiveState, audience: str) -> dict:
    session = state.session
    action_initial = {}
    if audience == "client" and session.step == steps.Step.ACTION_PLAN:
        # By default an action is due by the next planned session.
        following = (
            Session.objects.filter(group_id=session.group_id, scheduled_at__gt=session.scheduled_at)
            .exclude(status=Session.Status.CLOSED)
            .order_by("scheduled_at")
            .first()
        )
        if following:
            action_initial["due_date"] = timezone.localtime(following.scheduled_at).date()
    return {
        "expose": forms.ExposeForm(
            initial={"title": session.expose_title, "summary": session.expose_summary}
        ),
        "question": forms.QuestionForm(),
        "demand": forms.DemandForm(initial={"text": session.demand_text}),
        "contribution": forms.ContributionForm(),
        "action": forms.ActionForm(initial=action_initial),
        "learning": forms.LearningForm(),
        "feedback": forms.FeedbackForm(),
    }


def context_for(state: LiveState, audience: str, *, bound=None) -> dict:
    session = state.session
    return {
        "forms": default_forms(state, audience) | (bound or {}),
        "state": state,
        "session": session,
        "group": session.group,
        "audience": audience,
        "guide": steps.GUIDES.get(session.step),
        "step_label": steps.Step(session.step).label if session.step else "",
        "server_now": timezone.now(),
        "next_step": session.step
        and steps.following(session.step, include_retour=session.include_retour),
        "previous_step": session.step
        and steps.preceding(session.step, include_retour=session.include_retour),
        "kept": [c for c in state.contributions if c.tag == "keep"],
        "budgets": [
            (steps.Step(step).label, session.step_budgets.get(step, 0)) for step in steps.ORDER
        ],
    }
