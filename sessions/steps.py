"""The method's steps: their order, rule of speech, what each role does, budgets.

The French texts are the interface (translated like any template string); the
order is the method's and never changes.
"""

from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Step(models.TextChoices):
    RETOUR = "retour", _("Retour")
    EXPOSE = "expose", _("Exposé")
    CLARIFICATION = "clarification", _("Clarification")
    DEMAND = "demand", _("Demande")
    CONTRIBUTIONS = "contributions", _("Contributions")
    ACTION_PLAN = "action_plan", _("Plan d'action")
    LEARNINGS = "learnings", _("Apprentissages")


ORDER = list(Step)


@dataclass(frozen=True)
class StepGuide:
    number: int
    rule: Promise
    facilitator: Promise
    client: Promise
    consultant: Promise


GUIDES = {
    Step.RETOUR: StepGuide(
        0,
        _("Le client de la séance précédente raconte ce qu'il a fait de son plan d'action."),
        _("Invitez le client précédent à faire le point, puis passez à l'exposé."),
        _("Écoutez le retour du client précédent."),
        _("Écoutez le retour du client précédent."),
    ),
    Step.EXPOSE: StepGuide(
        1,
        _("Le client expose sa situation. Les autres écoutent, sans interrompre."),
        _("Veillez à ce que le client puisse parler sans être interrompu."),
        _("Présentez votre situation, son contexte et ce qui vous préoccupe."),
        _("Écoutez. Notez vos questions pour l'étape suivante."),
    ),
    Step.CLARIFICATION: StepGuide(
        2,
        _("Questions factuelles et ressentis. Pas encore de conseils."),
        _("Recentrez toute question qui cache un conseil."),
        _("Répondez aux questions ; marquez celles qui ont reçu une réponse."),
        _("Posez des questions factuelles. Pas encore de conseils."),
    ),
    Step.DEMAND: StepGuide(
        3,
        _("Le client formule sa demande : « Aidez-moi à … »."),
        _("Vérifiez que tous partagent la demande, puis validez le contrat."),
        _("Formulez votre demande en commençant par « Aidez-moi à … »."),
        _("Dites si la demande est claire pour vous ou s'il faut la reformuler."),
    ),
    Step.CONTRIBUTIONS: StepGuide(
        4,
        _("Les consultants partagent expériences, suggestions et effets miroir."),
        _("Faites circuler la parole ; gardez le cap sur la demande."),
        _("Écoutez, notez ce qui vous aide."),
        _("Proposez une expérience, une suggestion ou un effet miroir."),
    ),
    Step.ACTION_PLAN: StepGuide(
        5,
        _("Le client dit ce qu'il retient et décide d'actions concrètes."),
        _("Aidez le client à formuler des actions précises et datées."),
        _("Écrivez vos actions : quoi, pour quand."),
        _("Écoutez le plan du client, sans le commenter."),
    ),
    Step.LEARNINGS: StepGuide(
        6,
        _("Chacun dit ce qu'il a appris, puis donne son avis sur la séance."),
        _("Donnez la parole à chacun, vous compris."),
        _("Notez ce que vous avez appris, puis donnez votre avis sur la séance."),
        _("Notez ce que vous avez appris, puis donnez votre avis sur la séance."),
    ),
}

# Minutes per step for each preset format (total = the format). Contributions
# get the largest share: it is the heart of the method.
PRESET_BUDGETS = {
    45: {"retour": 3, "expose": 5, "clarification": 7, "demand": 4,
         "contributions": 14, "action_plan": 5, "learnings": 7},
    60: {"retour": 5, "expose": 10, "clarification": 10, "demand": 5,
         "contributions": 15, "action_plan": 5, "learnings": 10},
    90: {"retour": 5, "expose": 15, "clarification": 15, "demand": 10,
         "contributions": 25, "action_plan": 10, "learnings": 10},
    120: {"retour": 10, "expose": 15, "clarification": 20, "demand": 10,
          "contributions": 35, "action_plan": 15, "learnings": 15},
    180: {"retour": 15, "expose": 20, "clarification": 30, "demand": 15,
          "contributions": 50, "action_plan": 20, "learnings": 30},
}  # fmt: skip


def budgets_for(format_minutes: int) -> dict[str, int]:
    return dict(PRESET_BUDGETS.get(format_minutes, PRESET_BUDGETS[120]))


def following(step: str, *, include_retour: bool) -> str | None:
    steps = ORDER if include_retour else ORDER[1:]
    index = steps.index(step)
    return steps[index + 1] if index + 1 < len(steps) else None


def preceding(step: str, *, include_retour: bool) -> str | None:
    steps = ORDER if include_retour else ORDER[1:]
    index = steps.index(step)
    return steps[index - 1] if index > 0 else None
