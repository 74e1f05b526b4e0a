"""Each Stripe event goes to the app it concerns, chosen by what the event names (the kind in a
Checkout Session's metadata, or the event's type), never by the order the apps registered in."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from bookings.services import booking_checkout_event, transfer_checkout_event
from memberships.services import membership_checkout_event, membership_stripe_event
from passes.services import pass_checkout_event
from portal import stripe_events
from vouchers.services import voucher_checkout_event


@pytest.mark.parametrize(
    "session, handler",
    [
        (
            {"mode": "payment", "metadata": {"booking": "RYABC123", "organiser": "ry"}},
            booking_checkout_event,
        ),
        ({"mode": "payment", "metadata": {"transfer": "7", "organiser": "ry"}}, transfer_checkout_event),
        ({"mode": "payment", "metadata": {"pass": "c0de", "organiser": "ry"}}, pass_checkout_event),
        ({"mode": "payment", "metadata": {"voucher": "c0de", "organiser": "ry"}}, voucher_checkout_event),
        ({"mode": "subscription", "metadata": {"membership": "c0de"}}, membership_checkout_event),
        ({"mode": "subscription", "client_reference_id": "c0de"}, membership_checkout_event),
    ],
)
def test_a_checkout_session_goes_to_the_app_its_metadata_names(session, handler):
    assert stripe_events.checkout_handler_for(session) is handler


def test_a_payment_session_that_names_no_kind_of_ours_goes_nowhere():
    assert stripe_events.checkout_handler_for({"mode": "payment", "metadata": {"organiser": "ry"}}) is None


def test_a_session_naming_two_kinds_is_left_alone(caplog):
    session = {"id": "cs_1", "mode": "payment", "metadata": {"booking": "RYABC123", "voucher": "c0de"}}

    assert stripe_events.checkout_handler_for(session) is None
    assert "stripe.checkout_kinds_ambiguous cs_1 booking,voucher" in caplog.text


def test_subscription_invoice_and_card_events_go_to_memberships():
    for event_type in ("customer.subscription.updated", "invoice.paid", "customer.updated"):
        assert stripe_events._EVENT_HANDLERS[event_type] is membership_stripe_event
    assert "invoice.paid" in stripe_events.handled_event_types()
    assert "charge.refunded" not in stripe_events.handled_event_types()  # not stored at all


def test_a_second_handler_for_a_kind_is_refused_whatever_the_order(monkeypatch):
    monkeypatch.setattr(stripe_events, "_CHECKOUT_HANDLERS", dict(stripe_events._CHECKOUT_HANDLERS))
    stripe_events.checkout_handler_register("booking", booking_checkout_event)  # the same again: fine

    with pytest.raises(ImproperlyConfigured, match="Two handlers"):
        stripe_events.checkout_handler_register("booking", voucher_checkout_event)


def test_checkout_sessions_are_not_registered_by_event_type(monkeypatch):
    monkeypatch.setattr(stripe_events, "_EVENT_HANDLERS", dict(stripe_events._EVENT_HANDLERS))

    with pytest.raises(ImproperlyConfigured, match="dispatched by kind"):
        stripe_events.event_handler_register({"checkout.session.completed"}, membership_stripe_event)
