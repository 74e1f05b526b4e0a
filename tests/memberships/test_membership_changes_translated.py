"""The member's change dialogs (cancel with a reason, resume, pause, resume now, switch with its
proration) in German, French and Spanish: no sentence of the English dialog shows unchanged, and no
catalogue entry is left in English (the checks of tests/portal/test_pages_translated.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from memberships import changes, services
from tests.memberships.factories import MembershipFactory, MembershipPlanFactory
from tests.portal.test_pages_translated import LANGUAGES, english_left, text_nodes, visible_text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _language_reset():
    # The language middleware activates the booker's language in this thread: the tests after
    # these ones must not run in Spanish.
    yield
    translation.deactivate()


@pytest.fixture
def dialogs(membership, plan, booker):
    # One membership per dialog: an active one (cancel, pause, switch and its preview), a cancelled
    # one (resume) and a paused one (resume now).
    dearer = MembershipPlanFactory(organiser=plan.organiser, name="Unlimited Plus", price=6000)
    cancelled = services.membership_cancel(membership=membership)
    paused = MembershipPlanFactory(organiser=plan.organiser, name="Pausable", pause_allowed=True)
    on_break = changes.membership_pause(membership=MembershipFactory(plan=paused, user=booker), weeks=2)
    active = MembershipFactory(
        plan=MembershipPlanFactory(organiser=plan.organiser, pause_allowed=True), user=booker
    )
    return [
        reverse("memberships:membership_cancel", args=[active.code]),
        reverse("memberships:membership_pause", args=[active.code]),
        reverse("memberships:membership_switch", args=[active.code]),
        reverse("memberships:membership_switch", args=[active.code]) + f"?plan={dearer.code}",
        reverse("memberships:membership_resume", args=[cancelled.code]),
        reverse("memberships:membership_pause_end", args=[on_break.code]),
    ], {plan.organiser.name, plan.name, dearer.name, paused.name, active.plan.name, booker.email}


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_english_is_left_in_the_change_dialogs(client_as_booker, booker, dialogs, language):
    urls, organiser_content = dialogs
    runs = english_left(language)
    left = {}
    for url in urls:
        booker.language = "en-gb"
        booker.save()
        english = text_nodes(client_as_booker.get(url).content.decode())
        booker.language = language
        booker.save()
        page = client_as_booker.get(url).content.decode()
        same = {node for node in english & text_nodes(page) if not any(c in node for c in organiser_content)}
        still = [run for run in runs if run in visible_text(page)]
        if same or still:
            left[url] = sorted(same)[:5] + still[:5]
    assert not left, left
