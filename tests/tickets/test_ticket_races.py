"""Per-ticket changes racing each other on real Postgres transactions: nothing refunded twice, no
ticket lost or counted twice, no deadlock."""

from __future__ import annotations

import pytest

from bookings import services
from bookings.exceptions import ERRORS, BookingError
from bookings.models import Attendee, Booking, Event, Refund, TicketCancellation
from tests.factories import AttendeeFactory, EventFactory, TicketTypeFactory
from tests.helpers import paid_booking, rules
from tests.races import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(jobs):
    def run(index):
        try:
            return jobs[index]()
        except Exception as exc:  # noqa: BLE001 - the outcome is what we assert on
            return exc

    return at_once(len(jobs), run)


@pytest.fixture
def three(organiser):
    """Three £10 tickets on one £30 booking; a £1 fee per cancellation."""
    event = EventFactory(organiser=organiser, capacity=5)
    rules(event, cancellation_fee=100)
    ticket = TicketTypeFactory(event=event, price=1000)
    booking = paid_booking(ticket, seats=3)
    return booking


def ids(booking):
    return list(Attendee.objects.filter(booking=booking).order_by("pk").values_list("pk", flat=True))


def test_two_partial_cancels_of_different_tickets_both_count_once(three, mailoutbox):
    a, b, _ = ids(three)

    outcomes = race(
        [
            lambda: services.booking_cancel(booking=three, ticket_ids=[a], idempotency_key="a"),
            lambda: services.booking_cancel(booking=three, ticket_ids=[b], idempotency_key="b"),
        ]
    )

    assert all(isinstance(o, Booking) for o in outcomes), outcomes
    three.refresh_from_db()
    assert three.status == Booking.Status.CONFIRMED and three.total == 1000
    assert ids(three) == [_]
    assert Event.objects.get(pk=three.event_id).seats_taken == 1
    refunds = Refund.objects.filter(booking=three).order_by("pk")
    assert [(r.amount, r.fee_kept) for r in refunds] == [(900, 100), (900, 100)]
    assert len(mailoutbox) == 2


def test_two_partial_cancels_of_the_same_ticket_cancel_it_once(three, mailoutbox):
    a, _, _ = ids(three)

    outcomes = race(
        [
            lambda: services.booking_cancel(booking=three, ticket_ids=[a], idempotency_key="one"),
            lambda: services.booking_cancel(booking=three, ticket_ids=[a], idempotency_key="two"),
        ]
    )

    refused = [o for o in outcomes if isinstance(o, BookingError)]
    assert len(refused) == 1 and refused[0].message == ERRORS["tickets_changed"], outcomes
    assert TicketCancellation.objects.count() == 1
    assert Refund.objects.filter(booking=three).count() == 1
    three.refresh_from_db()
    assert three.total == 2000
    assert Event.objects.get(pk=three.event_id).seats_taken == 2
    assert len(mailoutbox) == 1


def test_two_partial_cancels_that_together_take_every_ticket_cancel_the_booking(organiser, mailoutbox):
    event = EventFactory(organiser=organiser, capacity=5)
    rules(event, cancellation_fee=100)
    booking = paid_booking(TicketTypeFactory(event=event, price=1000), seats=1)
    AttendeeFactory(booking=booking, ticket_type=booking.attendees.get().ticket_type)
    Booking.objects.filter(pk=booking.pk).update(total=2000)
    a, b = ids(booking)

    outcomes = race(
        [
            lambda: services.booking_cancel(booking=booking, ticket_ids=[a], idempotency_key="a"),
            lambda: services.booking_cancel(booking=booking, ticket_ids=[b], idempotency_key="b"),
        ]
    )

    assert all(isinstance(o, Booking) for o in outcomes), outcomes
    booking.refresh_from_db()
    assert booking.is_cancelled
    assert sum(r.amount for r in Refund.objects.filter(booking=booking)) == 1800  # £20 less two £1 fees
    assert Event.objects.get(pk=event.pk).seats_taken == 0


@pytest.fixture
def giving(organiser):
    """Bea and Kim (£10 each) on one £20 booking; Kim's ticket offered to Ola."""
    event = EventFactory(organiser=organiser, capacity=5)
    rules(event, cancellation_fee=0, gift_cutoff_hours=0)
    ticket = TicketTypeFactory(event=event, price=1000)
    booking = paid_booking(ticket, seats=2)
    kim = Attendee.objects.filter(booking=booking).order_by("pk").last()
    gift = services.ticket_gift_create(
        booking=booking,
        attendee_id=kim.pk,
        recipient_name="Ola",
        recipient_email="ola@example.net",
        idempotency_key="gift",
    )
    return booking, kim, gift


def test_a_gift_accepted_while_the_giver_cancels_that_ticket_ends_one_way_only(giving):
    from bookings.models import TicketGift

    booking, kim, gift = giving

    outcomes = race(
        [
            lambda: services.ticket_gift_accept(gift=gift),
            lambda: services.booking_cancel(booking=booking, ticket_ids=[kim.pk], idempotency_key="c"),
        ]
    )

    accepted, cancelled = outcomes
    gift.refresh_from_db()
    if isinstance(accepted, TicketGift):  # the accept went first: the cancel found the ticket gone
        assert isinstance(cancelled, BookingError) and cancelled.message == ERRORS["tickets_changed"]
        assert gift.status == TicketGift.Status.ACCEPTED
        assert Attendee.objects.get(pk=kim.pk).booking == gift.new_booking
        assert not Refund.objects.exists()
    else:  # the cancel went first: it withdrew the offer
        assert isinstance(cancelled, Booking), outcomes
        assert isinstance(accepted, BookingError), outcomes
        assert gift.status == TicketGift.Status.WITHDRAWN and gift.new_booking is None
        assert not Attendee.objects.filter(pk=kim.pk).exists()
        assert Refund.objects.get().amount == 1000
    assert Booking.objects.count() == (2 if gift.new_booking else 1)
    assert Event.objects.get(pk=booking.event_id).seats_taken == Attendee.objects.count()


def test_a_gift_accepted_while_the_giver_cancels_the_whole_booking_never_refunds_the_given_ticket(giving):
    booking, kim, gift = giving

    race(
        [
            lambda: services.ticket_gift_accept(gift=gift),
            lambda: services.booking_cancel(booking=booking),
        ]
    )

    booking.refresh_from_db()
    gift.refresh_from_db()
    assert booking.is_cancelled
    refunded = sum(r.amount for r in Refund.objects.filter(booking=booking))
    if gift.new_booking is not None:  # given first: the giver is refunded for Bea's ticket only
        assert refunded == 1000
        assert gift.new_booking.status == Booking.Status.CONFIRMED
        assert Event.objects.get(pk=booking.event_id).seats_taken == 1
    else:
        assert refunded == 2000
        assert Event.objects.get(pk=booking.event_id).seats_taken == 0


def test_a_partial_cancel_racing_a_move_of_the_same_ticket_lets_one_win(organiser):
    event = EventFactory(organiser=organiser, capacity=5)
    rules(event, cancellation_fee=0)
    ticket = TicketTypeFactory(event=event, price=1000)
    booking = paid_booking(ticket, seats=2)
    other = TicketTypeFactory(event=event, name="Concession", price=500)
    kim = ids(booking)[1]

    outcomes = race(
        [
            lambda: services.booking_cancel(booking=booking, ticket_ids=[kim], idempotency_key="c"),
            lambda: services.transfer_create(
                booking=booking, ticket_type=other, idempotency_key="m", ticket_ids=[kim]
            ),
        ]
    )

    cancelled, moved = outcomes
    refused = [o for o in outcomes if isinstance(o, BookingError)]
    assert len(refused) == 1 and refused[0].message == ERRORS["tickets_changed"], outcomes
    if isinstance(cancelled, Booking):
        assert not Attendee.objects.filter(pk=kim).exists()
        assert Booking.objects.count() == 1
    else:
        assert Attendee.objects.get(pk=kim).booking_id == moved.booking_id != booking.pk
        assert Attendee.objects.get(pk=kim).ticket_type == other
    assert Event.objects.get(pk=event.pk).seats_taken == Attendee.objects.count()
