from __future__ import annotations

from datetime import UTC

import pytest
from django.urls import reverse

from memberships.models import Membership, MembershipInvoice
from portal.models import Organiser
from tests.memberships.factories import MembershipFactory, MembershipPlanFactory

pytestmark = pytest.mark.django_db

LIST = reverse("memberships:membership_list")


def url(name, membership, *args):
    return reverse(f"memberships:{name}", args=[membership.code, *args])


# The list ----------------------------------------------------------------------------------


def test_the_list_shows_active_and_inactive_memberships(client_as_booker, membership, ended_membership):
    response = client_as_booker.get(LIST)

    assert response.status_code == 200
    assert response.context["current"] == [membership]
    assert response.context["ended"] == [ended_membership]
    html = response.content.decode()
    assert "Monthly Unlimited" in html and "Yearly Flow" in html
    assert "Renews on" in html and "Ended on" in html
    assert "Riverside" in html
    assert "Visa ending 4242" in html
    assert 'aria-current="page">Memberships' in html  # the section nav knows where we are


def test_the_list_shows_dates_in_the_organisers_time_zone(client_as_booker, membership, organiser):
    from datetime import datetime

    organiser.time_zone = "Pacific/Auckland"
    organiser.save()
    membership.current_period_end = datetime(2030, 1, 31, 20, 0, tzinfo=UTC)
    membership.save()

    html = client_as_booker.get(LIST).content.decode()

    assert "1 February 2030" in html  # 20:00 UTC on 31 January is the next morning in Auckland


def test_the_list_is_a_fragment_for_htmx(client_as_booker, membership, htmx):
    response = client_as_booker.get(LIST, **htmx)

    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b'id="membership-list"' in response.content


def test_a_booker_sees_only_their_own_memberships(client_as_booker, membership, other_membership):
    response = client_as_booker.get(LIST)

    assert response.context["current"] == [membership]
    assert str(other_membership.code) not in response.content.decode()


def test_an_unfinished_checkout_is_not_listed(client_as_booker, plan, booker):
    MembershipFactory(plan=plan, user=booker, status=Membership.Status.PENDING, subscription_reference="")

    response = client_as_booker.get(LIST)

    assert response.context["current"] == [] and response.context["ended"] == []


def test_a_free_plan_organisers_memberships_are_not_shown(client_as_booker, membership, organiser):
    organiser.plan = Organiser.Plan.FREE
    organiser.save()

    response = client_as_booker.get(LIST)

    assert response.context["current"] == []
    assert client_as_booker.get(url("membership_cancel", membership)).status_code == 404


def test_the_list_can_be_filtered_to_one_organiser(client_as_booker, membership, other_organiser, booker):
    theirs = MembershipFactory(plan=MembershipPlanFactory(organiser=other_organiser), user=booker)

    response = client_as_booker.get(LIST, {"organiser": other_organiser.slug})

    assert response.context["current"] == [theirs]


def test_the_list_says_when_stripe_is_still_confirming(client_as_booker, plan, booker):
    MembershipFactory(
        plan=plan, user=booker, status=Membership.Status.PENDING, checkout_reference="cs_test_9"
    )

    response = client_as_booker.get(LIST, {"session": "cs_test_9"})

    assert b"confirming your payment" in response.content


def test_the_list_needs_a_login(client):
    response = client.get(LIST)

    assert response.status_code == 302
    assert reverse("account_login") in response.url


def test_posting_to_the_list_is_rejected(client_as_booker):
    assert client_as_booker.post(LIST).status_code == 405


# Joining -----------------------------------------------------------------------------------


def test_the_join_page_describes_the_plan(client_as_booker, plan):
    response = client_as_booker.get(reverse("memberships:membership_join", args=[plan.code]))

    assert response.status_code == 200
    assert b"Monthly Unlimited" in response.content
    assert "£30.00" in response.content.decode()
    assert b"10% off every booking" in response.content


def test_joining_offline_starts_the_membership_with_a_paid_invoice(
    client_as_booker, plan, booker, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as_booker.post(reverse("memberships:membership_join", args=[plan.code]))

    assert response.status_code == 302
    assert response.url == LIST
    membership = Membership.objects.get(user=booker, plan=plan)
    assert membership.status == Membership.Status.ACTIVE
    assert membership.current_period_end > membership.current_period_start
    invoice = membership.invoices.get()
    assert (invoice.status, invoice.amount_paid, invoice.currency) == ("paid", 3000, "GBP")
    assert b"Welcome!" in client_as_booker.get(LIST).content
    assert [m.subject for m in mailoutbox] == ["Welcome to Monthly Unlimited at Riverside"]


def test_joining_with_htmx_redirects_the_whole_page(client_as_booker, plan, htmx):
    response = client_as_booker.post(reverse("memberships:membership_join", args=[plan.code]), **htmx)

    assert response.status_code == 200
    assert response["HX-Redirect"] == LIST


def test_joining_with_stripe_sends_the_booker_to_checkout(client_as_booker, plan, booker, fake_stripe):
    response = client_as_booker.post(reverse("memberships:membership_join", args=[plan.code]))

    assert response.status_code == 302
    assert response.url == "https://checkout.stripe.test/c/pay/cs_test_1"
    membership = Membership.objects.get(user=booker, plan=plan)
    assert membership.status == Membership.Status.PENDING  # the webhook activates it
    assert membership.checkout_reference == "cs_test_1"
    _, params = fake_stripe.calls[1]
    assert params["success_url"].endswith("/portal/memberships/?session={CHECKOUT_SESSION_ID}")
    assert params["metadata"]["membership"] == str(membership.code)


def test_the_join_page_of_a_plan_the_booker_holds_offers_manage_not_join(client_as_booker, membership, plan):
    response = client_as_booker.get(reverse("memberships:membership_join", args=[plan.code]))

    html = response.content.decode()
    assert "You're already a member" in html
    assert "Continue to payment" not in html
    assert reverse("memberships:membership_list") in html


def test_joining_twice_is_refused(client_as_booker, membership, plan):
    response = client_as_booker.post(reverse("memberships:membership_join", args=[plan.code]))

    assert response.status_code == 200
    assert b"already a member" in response.content
    assert Membership.objects.filter(plan=plan, user=membership.user).count() == 1


def test_a_free_plan_organisers_plan_cannot_be_joined(client_as_booker, plan, organiser):
    organiser.plan = Organiser.Plan.FREE
    organiser.save()

    assert client_as_booker.get(reverse("memberships:membership_join", args=[plan.code])).status_code == 404
    assert client_as_booker.post(reverse("memberships:membership_join", args=[plan.code])).status_code == 404


def test_a_plan_no_longer_offered_cannot_be_joined(client_as_booker, plan):
    plan.is_offered = False
    plan.save()

    assert client_as_booker.get(reverse("memberships:membership_join", args=[plan.code])).status_code == 404


def test_joining_needs_a_login_and_comes_back(client, plan):
    join = reverse("memberships:membership_join", args=[plan.code])

    response = client.get(join)

    assert response.status_code == 302
    assert reverse("account_login") in response.url and "next=" in response.url


def test_join_rejects_other_methods(client_as_booker, plan):
    assert client_as_booker.put(reverse("memberships:membership_join", args=[plan.code])).status_code == 405


# Invoices ----------------------------------------------------------------------------------


def test_view_invoices_lists_date_number_amount_status_and_a_link(client_as_booker, membership):
    response = client_as_booker.get(url("membership_invoices", membership))

    assert response.status_code == 200
    html = response.content.decode()
    assert "INV-0001" in html and "£30.00" in html and "Paid" in html
    invoice = membership.invoices.get()
    assert url("membership_invoice", membership, invoice.code) in html  # offline: our own invoice page


def test_stripe_invoices_link_to_stripes_pdf(client_as_booker, membership):
    membership.invoices.update(pdf_url="https://pay.stripe.test/invoice/1/pdf")

    response = client_as_booker.get(url("membership_invoices", membership))

    assert b"https://pay.stripe.test/invoice/1/pdf" in response.content


def test_view_invoices_is_a_dialog_fragment_for_htmx(client_as_booker, membership, htmx):
    response = client_as_booker.get(url("membership_invoices", membership), **htmx)

    assert b"<html" not in response.content
    assert b'<dialog id="invoices-dialog"' in response.content


def test_another_bookers_invoices_are_not_found(client_as_booker, other_membership):
    assert client_as_booker.get(url("membership_invoices", other_membership)).status_code == 404
    invoice = other_membership.invoices.get()
    assert client_as_booker.get(url("membership_invoice", other_membership, invoice.code)).status_code == 404


def test_an_invoice_of_another_membership_is_not_found_through_ours(
    client_as_booker, membership, other_membership
):
    theirs = other_membership.invoices.get()

    assert client_as_booker.get(url("membership_invoice", membership, theirs.code)).status_code == 404


def test_an_invoice_page_shows_the_invoice(client_as_booker, membership, htmx):
    invoice = membership.invoices.get()

    page = client_as_booker.get(url("membership_invoice", membership, invoice.code))
    fragment = client_as_booker.get(url("membership_invoice", membership, invoice.code), **htmx)

    assert page.status_code == 200 and b"Invoice INV-0001" in page.content and b"<html" in page.content
    assert b"<html" not in fragment.content and b"Invoice INV-0001" in fragment.content


def test_invoices_need_a_login(client, membership):
    invoice = membership.invoices.get()
    for target in [
        url("membership_invoices", membership),
        url("membership_invoice", membership, invoice.code),
    ]:
        response = client.get(target)
        assert response.status_code == 302 and reverse("account_login") in response.url


def test_invoices_reject_post(client_as_booker, membership):
    invoice = membership.invoices.get()
    assert client_as_booker.post(url("membership_invoices", membership)).status_code == 405
    assert client_as_booker.post(url("membership_invoice", membership, invoice.code)).status_code == 405


# Update card details -----------------------------------------------------------------------

CARD = {"number": "5555 5555 5555 4444", "exp_month": "12", "exp_year": "2099", "cvc": "123"}


def test_the_card_page_shows_a_form_offline(client_as_booker, membership):
    response = client_as_booker.get(url("membership_card", membership))

    assert response.status_code == 200
    assert b'name="number"' in response.content
    assert b"Visa ending 4242" in response.content


def test_updating_the_card_offline_keeps_only_brand_and_last_four(client_as_booker, membership):
    response = client_as_booker.post(url("membership_card", membership), CARD)

    assert response.status_code == 302 and response.url == LIST
    membership.refresh_from_db()
    assert (membership.card_brand, membership.card_last4) == ("Mastercard", "4444")
    assert b"Card updated: Mastercard ending 4444" in client_as_booker.get(LIST).content


def test_updating_the_card_with_htmx_swaps_the_membership_and_closes_the_dialog(
    client_as_booker, membership, htmx
):
    response = client_as_booker.post(url("membership_card", membership), CARD, **htmx)

    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert f'id="membership-{membership.code}"' in html
    assert "Mastercard ending 4444" in html
    assert '<div id="modal" hx-swap-oob="true"></div>' in html


def test_a_bad_card_comes_back_with_errors_into_the_dialog(client_as_booker, membership, htmx):
    response = client_as_booker.post(url("membership_card", membership), {**CARD, "number": "12"}, **htmx)

    assert response.status_code == 200
    assert b"Enter the long number" in response.content
    assert response["HX-Retarget"] == "#modal"
    membership.refresh_from_db()
    assert membership.card_last4 == "4242"


def test_an_expired_card_is_refused(client_as_booker, membership):
    response = client_as_booker.post(url("membership_card", membership), {**CARD, "exp_year": "2001"})

    assert response.status_code == 200
    assert b"That card has expired" in response.content


def test_with_stripe_update_card_opens_the_billing_portal(client_as_booker, membership, fake_stripe, htmx):
    Membership.objects.filter(pk=membership.pk).update(gateway="stripe", customer_reference="cus_123")

    page = client_as_booker.get(url("membership_card", membership))
    response = client_as_booker.post(url("membership_card", membership))
    htmx_response = client_as_booker.post(url("membership_card", membership), **htmx)

    assert b"Continue to Stripe" in page.content and b'name="number"' not in page.content
    assert response.status_code == 302
    assert response.url == "https://billing.stripe.test/p/session/bps_1"
    assert htmx_response["HX-Redirect"] == "https://billing.stripe.test/p/session/bps_1"
    assert fake_stripe.calls[0] == (
        "card_update_url",
        {"customer_reference": "cus_123", "return_url": "http://127.0.0.1:8000/portal/memberships/"},
    )


def test_another_bookers_card_page_is_not_found(client_as_booker, other_membership):
    assert client_as_booker.get(url("membership_card", other_membership)).status_code == 404
    assert client_as_booker.post(url("membership_card", other_membership), CARD).status_code == 404
    other_membership.refresh_from_db()
    assert other_membership.card_last4 == ""


def test_the_card_page_needs_a_login(client, membership):
    response = client.get(url("membership_card", membership))
    assert response.status_code == 302 and reverse("account_login") in response.url


def test_the_card_page_rejects_other_methods(client_as_booker, membership):
    assert client_as_booker.put(url("membership_card", membership)).status_code == 405


def test_the_card_page_is_a_fragment_for_htmx(client_as_booker, membership, htmx):
    response = client_as_booker.get(url("membership_card", membership), **htmx)
    assert b"<html" not in response.content and b'<dialog id="card-dialog"' in response.content


# Cancel membership -------------------------------------------------------------------------


def test_the_cancel_page_asks_for_confirmation_and_names_the_end_date(client_as_booker, membership):
    response = client_as_booker.get(url("membership_cancel", membership))

    assert response.status_code == 200
    assert b'<dialog id="confirm-dialog"' in response.content and b"<html" in response.content
    assert membership.current_period_end.strftime("%-d %B %Y").encode() in response.content
    membership.refresh_from_db()
    assert not membership.cancel_at_period_end  # a GET changes nothing


def test_cancelling_ends_the_membership_at_the_end_of_the_period(
    client_as_booker, membership, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as_booker.post(url("membership_cancel", membership))

    assert response.status_code == 302 and response.url == LIST
    membership.refresh_from_db()
    assert membership.cancel_at_period_end
    assert membership.status == Membership.Status.ACTIVE  # benefits last until the period ends
    assert membership.ends_on == membership.current_period_end
    listing = client_as_booker.get(LIST).content.decode()
    assert f"It ends on {membership.current_period_end:%-d %B %Y}" in listing
    assert "Ends on" in listing and "Renews on" not in listing
    assert [m.subject for m in mailoutbox] == ["Your Monthly Unlimited membership has been cancelled"]


def test_cancelling_with_htmx_swaps_the_membership_and_closes_the_dialog(client_as_booker, membership, htmx):
    response = client_as_booker.post(url("membership_cancel", membership), **htmx)

    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert f'id="membership-{membership.code}"' in html and "Ends on" in html
    assert '<div id="modal" hx-swap-oob="true"></div>' in html
    assert 'hx-swap-oob="true" aria-live="polite"' in html  # the message, out of band


def test_the_cancel_dialog_is_a_fragment_for_htmx(client_as_booker, membership, htmx):
    response = client_as_booker.get(url("membership_cancel", membership), **htmx)

    assert b"<html" not in response.content and b'<dialog id="confirm-dialog"' in response.content


def test_cancelling_twice_explains_that_it_is_already_cancelled(client_as_booker, membership):
    client_as_booker.post(url("membership_cancel", membership))

    response = client_as_booker.post(url("membership_cancel", membership))

    assert response.status_code == 200
    assert b"already cancelled" in response.content


def test_another_bookers_membership_cannot_be_cancelled(client_as_booker, other_membership):
    assert client_as_booker.get(url("membership_cancel", other_membership)).status_code == 404
    assert client_as_booker.post(url("membership_cancel", other_membership)).status_code == 404
    other_membership.refresh_from_db()
    assert not other_membership.cancel_at_period_end


def test_another_organisers_staff_cannot_cancel_our_bookers_membership(client, membership, other_staff):
    client.force_login(other_staff)

    assert client.post(url("membership_cancel", membership)).status_code == 404


def test_cancelling_needs_a_login(client, membership):
    response = client.post(url("membership_cancel", membership))

    assert response.status_code == 302 and reverse("account_login") in response.url
    membership.refresh_from_db()
    assert not membership.cancel_at_period_end


def test_cancel_rejects_other_methods(client_as_booker, membership):
    assert client_as_booker.delete(url("membership_cancel", membership)).status_code == 405


def test_an_unknown_code_is_not_found(client_as_booker):
    assert (
        client_as_booker.get("/portal/memberships/00000000-0000-0000-0000-000000000000/cancel/").status_code
        == 404
    )
    assert client_as_booker.get("/portal/memberships/1/cancel/").status_code == 404


# The offer on the organiser's page ---------------------------------------------------------


def test_the_organiser_page_offers_the_plans(client, plan):
    response = client.get(reverse("organiser_page", args=[plan.organiser.slug]))

    html = response.content.decode()
    assert "Memberships" in html and "Monthly Unlimited" in html
    assert reverse("memberships:membership_join", args=[plan.code]) in html


def test_a_member_sees_manage_instead_of_join(client_as_booker, membership, plan):
    html = client_as_booker.get(reverse("organiser_page", args=[plan.organiser.slug])).content.decode()

    assert "You're a member" in html
    assert reverse("memberships:membership_join", args=[plan.code]) not in html


def test_a_free_plan_organiser_offers_no_memberships(client, organiser):
    organiser.plan = Organiser.Plan.FREE
    organiser.save()
    MembershipPlanFactory(organiser=organiser, name="Hidden Plan")

    html = client.get(reverse("organiser_page", args=[organiser.slug])).content.decode()

    assert "Hidden Plan" not in html and "memberships-title" not in html


def test_the_invoice_model_reports_the_paid_amount():
    assert MembershipInvoice(status="paid", amount_due=3000, amount_paid=2500).amount == 2500
