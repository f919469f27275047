"""The panel's destructive actions ask first (docs/panel.md, "Actions ask first").

An action's form posts to its usual URL. A valid form without the confirmation changes nothing:
it gets a page that says what will happen to what, with the form's own fields carried in hidden
inputs, a Confirm button that posts them again with `confirm=yes`, and a Cancel link back. Only
that confirmed POST acts, through the same checks as before (role, form, the service's own
once-only guard). A plain form: no JavaScript, reached and answered with the keyboard."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

from apps.accounts.models import Game, Player
from apps.panel.access import StaffRequest
from apps.panel.views.common import page_context

CONFIRM_FIELD = "confirm"
CONFIRMED = "yes"
# Never carried into the confirmation: its page has a token of its own, and says yes itself.
NOT_CARRIED = frozenset({"csrfmiddlewaretoken", CONFIRM_FIELD})


@dataclass(frozen=True)
class Ask:
    """What the confirmation page says. `seen` is state the page showed (a ban, the live
    release) that the action applies over only if it is still the same when confirmed: a
    confirmation sent twice finds it changed by the first."""

    question: str  # the page's h1: "Ban alice?"
    facts: Sequence[str]  # what will happen to what, a sentence each
    button: str  # the confirm button's words: "Ban alice"
    back: str  # where Cancel goes: the page the form was on
    back_label: str  # that page's name, for the breadcrumbs
    seen: Mapping[str, str] = field(default_factory=dict)


def confirmed(request: StaffRequest, *seen: str) -> bool:
    """The POST carries the confirmation, and the state (by field name) its page saw."""
    return request.POST.get(CONFIRM_FIELD) == CONFIRMED and all(
        name in request.POST for name in seen
    )


def ask_first(request: StaffRequest, game: Game, ask: Ask, *, section: str) -> HttpResponse:
    """The confirmation page for this POST: nothing has changed yet."""
    carried = [
        (name, value)
        for name, values in request.POST.lists()
        if name not in NOT_CARRIED and name not in ask.seen
        for value in values
    ]
    # What the page sees now, not what an earlier confirmation sent back.
    carried += list(ask.seen.items())
    context = page_context(
        request,
        game,
        title=ask.question,
        gp_section=section,
        ask=ask,
        carried=carried,
        action=request.path,
    )
    return render(request, "panel/confirm.html", context)


def ask_on_player_page(
    request: StaffRequest,
    game: Game,
    player: Player,
    *,
    question: str,
    facts: Sequence[str],
    button: str,
    seen: Mapping[str, str] | None = None,
) -> HttpResponse:
    """The confirmation of an action of the player page, Cancel going back to it."""
    ask = Ask(
        question=question,
        facts=facts,
        button=button,
        back=reverse("panel:player", args=[game.pk, player.pk]),
        back_label=str(player),
        seen=seen or {},
    )
    return ask_first(request, game, ask, section="players")
