"""Stripe's webhook completes a dearer move once its Checkout is paid, and only then."""

from __future__ import annotations

import pytest

from bookings import services
from bookings.models import Refund, Transfer
from tests.factories import TicketTypeFactory, TransferFactory
from tests.helpers import paid_booking, rules
from tests.stripe_helpers import event

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(organiser):
    from tests.factories import EventFactory

    source = EventFactory(organiser=organiser)
    rules(source)
    booking = paid_booking(TicketTypeFactory(event=source, price=2000))
    dearer = TicketTypeFactory(event=EventFactory(organiser=organiser), price=3500)
    return TransferFactory(
        booking=booking, to_event=dearer.event, to_ticket_type=dearer, old_total=2000, new_total=3500
    )


def session(transfer, **extra):
    return {
        "id": "cs_test_move",
        "object": "checkout.session",
        "mode": "payment",
        "payment_status": "paid",
        "payment_intent": "pi_move",
        "metadata": {"transfer": str(transfer.pk), "organiser": transfer.organiser.slug},
        **extra,
    }


def test_a_paid_checkout_completes_the_move_once_and_emails_once(deliver, pending, mailoutbox):
    payload = event("evt_move_paid", "checkout.session.completed", session(pending))

    assert deliver(payload).status_code == 200
    assert deliver(payload).status_code == 200  # Stripe retries

    pending.refresh_from_db()
    assert (pending.status, pending.payment_reference) == (Transfer.Status.COMPLETED, "pi_move")
    pending.booking.refresh_from_db()
    assert (pending.booking.event_id, pending.booking.total) == (pending.to_event_id, 3500)
    assert len(mailoutbox) == 1 and "You paid the difference of £15.00" in mailoutbox[0].body


def test_an_unpaid_or_expired_checkout_moves_nothing(deliver, pending, mailoutbox):
    deliver(event("evt_unpaid", "checkout.session.completed", session(pending, payment_status="unpaid")))
    deliver(event("evt_expired", "checkout.session.expired", session(pending, payment_status="unpaid")))

    pending.refresh_from_db()
    assert pending.status == Transfer.Status.PENDING
    pending.booking.refresh_from_db()
    assert pending.booking.event_id == pending.from_event_id and mailoutbox == []


def test_a_paid_checkout_for_a_move_whose_seats_went_refunds_that_payment(deliver, pending, mailoutbox):
    pending.to_event.capacity = 0
    pending.to_event.save()

    deliver(event("evt_move_late", "checkout.session.completed", session(pending)))

    pending.refresh_from_db()
    assert pending.status == Transfer.Status.FAILED
    refund = Refund.objects.get(transfer=pending)
    assert (refund.amount, refund.status) == (1500, Refund.Status.SUCCEEDED)
    assert [m.subject.split(":")[0] for m in mailoutbox] == ["Not moved"]


def test_a_booking_checkout_is_not_mistaken_for_a_move(deliver, pending):
    deliver(event("evt_other", "checkout.session.completed", session(pending, metadata={"transfer": "x"})))
    pending.refresh_from_db()
    assert pending.status == Transfer.Status.PENDING


@pytest.mark.parametrize("cancelled", ["from_event", "to_event"])
def test_a_move_paid_after_the_organiser_cancelled_either_event_is_refunded(
    deliver, pending, mailoutbox, django_capture_on_commit_callbacks, cancelled
):

    with django_capture_on_commit_callbacks(execute=True):
        services.event_cancel(event=getattr(pending, cancelled))
    mailoutbox.clear()

    deliver(event("evt_move_cancelled", "checkout.session.completed", session(pending)))

    pending.refresh_from_db()
    assert pending.status == Transfer.Status.FAILED
    refund = Refund.objects.get(transfer=pending)
    assert (refund.amount, refund.status, refund.gateway_reference[:11]) == (
        1500,
        Refund.Status.SUCCEEDED,
        "offline_re_",
    )
    assert [m.subject.split(":")[0] for m in mailoutbox] == ["Not moved"]
