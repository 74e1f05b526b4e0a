"""The Manage menu's changes, as pages (no JavaScript) and as htmx dialogs: cancel with a reason,
resume a cancelled membership, pause and resume, switch plan."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from memberships import changes, services
from memberships.models import Membership, MembershipPause
from portal.payments import add_interval
from tests.memberships.factories import MembershipFactory, MembershipPlanFactory

pytestmark = pytest.mark.django_db

LIST = reverse("memberships:membership_list")


def url(name, membership):
    return reverse(f"memberships:{name}", args=[membership.code])


@pytest.fixture
def pausable(plan):
    plan.pause_allowed, plan.pause_max_weeks, plan.pauses_per_year = True, 3, 1
    plan.save()
    return plan


@pytest.fixture
def dearer(organiser):
    return MembershipPlanFactory(organiser=organiser, name="Unlimited Plus", price=6000, discount_percent=25)


def fresh(membership):
    return Membership.objects.get(pk=membership.pk)


# Cancel with a reason ----------------------------------------------------------------------


def test_the_cancel_dialog_offers_the_reasons_as_an_optional_choice(client_as_booker, membership):
    html = client_as_booker.get(url("membership_cancel", membership)).content.decode()

    assert "Why are you leaving? (optional)" in html
    assert "It costs too much" in html and "I&#x27;d rather not say" in html


def test_cancelling_with_a_reason_keeps_it_for_the_organiser(client_as_booker, membership):
    response = client_as_booker.post(url("membership_cancel", membership), {"reason": "not_using"})

    assert response.status_code == 302
    assert fresh(membership).cancel_reason == "not_using"


def test_an_unknown_reason_is_explained_and_nothing_changes(client_as_booker, membership, htmx):
    response = client_as_booker.post(url("membership_cancel", membership), {"reason": "bogus"}, **htmx)

    assert response.status_code == 200
    assert response["HX-Retarget"] == "#modal"
    assert "Choose one of the reasons" in response.content.decode()
    assert not fresh(membership).cancel_at_period_end


def test_the_cancel_dialog_offers_a_pause_instead_when_the_plan_allows(
    client_as_booker, membership, pausable
):
    html = client_as_booker.get(url("membership_cancel", membership)).content.decode()

    assert "Pause your membership instead" in html and url("membership_pause", membership) in html


def test_the_organiser_reads_the_reason_in_the_admin(client_as_staff, membership):
    services.membership_cancel(membership=membership, reason="schedule")

    changelist = client_as_staff.get(reverse("admin:memberships_membership_changelist")).content.decode()
    detail = client_as_staff.get(
        reverse("admin:memberships_membership_change", args=[membership.pk])
    ).content.decode()

    assert "The times don&#x27;t suit me any more" in changelist
    assert "The times don&#x27;t suit me any more" in detail


# Resume a cancelled membership -------------------------------------------------------------


def test_a_cancelled_membership_offers_resume_in_the_manage_menu(client_as_booker, membership):
    assert "Resume membership" not in client_as_booker.get(LIST).content.decode()
    services.membership_cancel(membership=membership)

    html = client_as_booker.get(LIST).content.decode()

    assert url("membership_resume", membership) in html and "Resume membership" in html


def test_the_resume_page_confirms_then_resumes(client_as_booker, membership):
    services.membership_cancel(membership=membership)

    page = client_as_booker.get(url("membership_resume", membership))
    assert page.status_code == 200 and "Keep your Monthly Unlimited membership?" in page.content.decode()
    assert fresh(membership).cancel_at_period_end  # a GET changes nothing

    response = client_as_booker.post(url("membership_resume", membership), follow=True)

    assert response.redirect_chain[-1][0] == LIST
    assert "will carry on" in response.content.decode()
    assert not fresh(membership).cancel_at_period_end


def test_resuming_with_htmx_swaps_the_card_and_closes_the_dialog(client_as_booker, membership, htmx):
    services.membership_cancel(membership=membership)

    response = client_as_booker.post(url("membership_resume", membership), **htmx)

    html = response.content.decode()
    assert f'id="membership-{membership.code}"' in html and "Renews on" in html
    assert '<div id="modal" hx-swap-oob="true"></div>' in html


def test_resuming_an_ended_membership_explains_why_not(client_as_booker, ended_membership):
    response = client_as_booker.post(url("membership_resume", ended_membership))

    assert response.status_code == 200
    assert "has ended" in response.content.decode()


# Pause and resume --------------------------------------------------------------------------


def test_the_pause_dialog_lists_lengths_with_their_resume_days(client_as_booker, membership, pausable):
    html = client_as_booker.get(url("membership_pause", membership)).content.decode()

    until = timezone.localtime(changes.pause_resumes_at(membership, 3), membership.organiser.tzinfo)
    assert f"3 weeks, until {until:%-d %b %Y}" in html
    assert "1 week, until" in html and "4 weeks" not in html
    assert "you aren't charged" in html
    assert "You can pause for up to 3 weeks, once in any 12 months." in html


def test_the_menu_offers_pause_only_when_the_plan_allows(client_as_booker, membership, plan):
    assert "Pause membership" not in client_as_booker.get(LIST).content.decode()
    plan.pause_allowed = True
    plan.save()

    assert url("membership_pause", membership) in client_as_booker.get(LIST).content.decode()


def test_pausing_without_javascript(client_as_booker, membership, pausable):
    response = client_as_booker.post(url("membership_pause", membership), {"weeks": "2"}, follow=True)

    assert response.redirect_chain[-1][0] == LIST
    html = response.content.decode()
    assert "is paused until" in html and "Paused until" in html and "Resume now" in html
    assert fresh(membership).status == Membership.Status.PAUSED


def test_a_paused_card_names_the_first_renewal_charged_after_the_pause(
    client_as_booker, membership, pausable
):
    end = membership.current_period_end
    changes.membership_pause(membership=membership, weeks=3, now=end - timedelta(days=1))

    paused = fresh(membership)

    assert paused.renews_on == add_interval(end, "month")  # the renewal inside the pause is free
    html = client_as_booker.get(LIST).content.decode()
    assert services.local_date(paused.renews_on, paused.organiser) in html


def test_pausing_with_htmx_swaps_the_card(client_as_booker, membership, pausable, htmx):
    response = client_as_booker.post(url("membership_pause", membership), {"weeks": "1"}, **htmx)

    html = response.content.decode()
    assert "Paused until" in html and '<div id="modal" hx-swap-oob="true"></div>' in html


def test_a_pause_length_the_plan_does_not_offer_is_explained(client_as_booker, membership, pausable, htmx):
    response = client_as_booker.post(url("membership_pause", membership), {"weeks": "9"}, **htmx)

    assert response["HX-Retarget"] == "#modal"
    assert "Choose one of the pause lengths offered." in response.content.decode()
    assert fresh(membership).status == Membership.Status.ACTIVE


def test_the_pause_dialog_explains_when_the_rules_say_no(client_as_booker, membership, pausable):
    MembershipPause.objects.create(
        organiser=membership.organiser,
        membership=membership,
        starts_at=timezone.now() - timedelta(days=30),
        resumes_at=timezone.now() - timedelta(days=16),
        ended_at=timezone.now() - timedelta(days=16),
    )

    html = client_as_booker.get(url("membership_pause", membership)).content.decode()

    assert "You can pause again from" in html and 'name="weeks"' not in html


def test_resume_now_ends_the_pause_early(client_as_booker, membership, pausable):
    changes.membership_pause(membership=membership, weeks=2)

    page = client_as_booker.get(url("membership_pause_end", membership)).content.decode()
    assert "Resume your Monthly Unlimited membership now?" in page
    response = client_as_booker.post(url("membership_pause_end", membership), follow=True)

    assert "active again" in response.content.decode()
    assert fresh(membership).status == Membership.Status.ACTIVE


# Switch plan -------------------------------------------------------------------------------


def test_the_switch_dialog_lists_the_organisers_other_plans(
    client_as_booker, membership, dearer, other_organiser
):
    MembershipPlanFactory(organiser=other_organiser, name="Elsewhere Plan")
    MembershipPlanFactory(organiser=membership.organiser, name="Yearly Plan", interval="year")

    html = client_as_booker.get(url("membership_switch", membership)).content.decode()

    assert "Unlimited Plus" in html and "£60.00" in html
    assert "Elsewhere Plan" not in html
    # Billed the other way: listed, and the dialog says a new period starts on the day.
    assert "Yearly Plan" in html and "/ year" in html and "starts a new period today" in html


def test_a_switch_to_a_yearly_plan_shows_todays_invoice_then_confirms_without_javascript(
    client_as_booker, membership, booker
):
    yearly = MembershipPlanFactory(
        organiser=membership.organiser, name="Yearly Plan", interval="year", price=30000
    )

    response = client_as_booker.get(url("membership_switch", membership), {"plan": str(yearly.code)})

    html = response.content.decode()
    assert "Yearly Plan, a whole year from today" in html and "£300.00" in html
    assert "Invoiced today" in html and "Nothing is charged today" not in html
    quoted_at = re.search(r'name="quoted_at" value="(\d+)"', html).group(1)

    response = client_as_booker.post(
        url("membership_switch", membership), {"plan": str(yearly.code), "quoted_at": quoted_at}, follow=True
    )

    assert "Its first period starts today and is invoiced now" in response.content.decode()
    membership.refresh_from_db()
    assert membership.plan == yearly
    assert membership.current_period_end.year == membership.current_period_start.year + 1


def test_choosing_a_plan_shows_the_proration_before_confirm(client_as_booker, membership, dearer):
    response = client_as_booker.get(url("membership_switch", membership), {"plan": str(dearer.code)})

    html = response.content.decode()
    preview = response.context["preview"]
    assert "Switch from Monthly Unlimited to Unlimited Plus?" in html
    assert "Unused time on Monthly Unlimited" in html and "Confirm switch" in html
    assert f'value="{int(preview.proration_date.timestamp())}"' in html
    assert fresh(membership).plan_id == membership.plan_id  # a GET changes nothing


def test_confirming_switches_the_plan_without_javascript(client_as_booker, membership, dearer):
    quoted = int(timezone.now().timestamp())

    response = client_as_booker.post(
        url("membership_switch", membership), {"plan": str(dearer.code), "quoted_at": quoted}, follow=True
    )

    assert response.redirect_chain[-1][0] == LIST
    assert "now on Unlimited Plus" in response.content.decode()
    assert fresh(membership).plan == dearer


def test_confirming_with_htmx_swaps_the_card(client_as_booker, membership, dearer, htmx):
    quoted = int(timezone.now().timestamp())

    response = client_as_booker.post(
        url("membership_switch", membership), {"plan": str(dearer.code), "quoted_at": quoted}, **htmx
    )

    html = response.content.decode()
    assert "Unlimited Plus" in html and '<div id="modal" hx-swap-oob="true"></div>' in html


def test_an_out_of_date_quote_shows_the_amounts_again(client_as_booker, membership, dearer, htmx):
    stale = int((timezone.now() - timedelta(hours=2)).timestamp())

    response = client_as_booker.post(
        url("membership_switch", membership), {"plan": str(dearer.code), "quoted_at": stale}, **htmx
    )

    assert response["HX-Retarget"] == "#modal"
    html = response.content.decode()
    assert "out of date" in html  # the message, out of band
    assert "Unused time on Monthly Unlimited" in html and "Confirm switch" in html
    assert fresh(membership).plan_id == membership.plan_id


def test_another_organisers_plan_cannot_be_chosen(client_as_booker, membership, dearer, other_organiser):
    theirs = MembershipPlanFactory(organiser=other_organiser)
    quoted = int(timezone.now().timestamp())

    response = client_as_booker.post(
        url("membership_switch", membership), {"plan": str(theirs.code), "quoted_at": quoted}
    )

    assert response.status_code == 200
    assert "That plan is not available" in response.content.decode()
    assert fresh(membership).plan_id == membership.plan_id


def test_a_paused_membership_does_not_offer_switch(client_as_booker, membership, dearer):
    Membership.objects.filter(pk=membership.pk).update(status="paused")

    assert url("membership_switch", membership) not in client_as_booker.get(LIST).content.decode()
    assert (
        "can't switch plan just now"
        in client_as_booker.get(url("membership_switch", membership)).content.decode()
    )


@pytest.mark.parametrize(
    "name", ["membership_resume", "membership_pause", "membership_pause_end", "membership_switch"]
)
def test_the_changes_need_a_login_and_the_booker_who_holds_the_membership(
    client, client_as_booker, name, other_booker
):
    theirs = MembershipFactory(user=other_booker, cancel_at_period_end=True)

    assert client_as_booker.get(url(name, theirs)).status_code == 404
    assert client_as_booker.post(url(name, theirs)).status_code == 404
    client.logout()
    assert client.post(url(name, theirs)).status_code == 302
