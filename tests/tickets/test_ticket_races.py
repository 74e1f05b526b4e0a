"""Per-ticket changes racing each other on real Postgres transactions: nothing refunded twice, no
ticket lost or counted twice, no deadlock."""

from __future__ import annotations

import pytest

from bookings import services
from bookings.exceptions import ERRORS, BookingError
from bookings.models import Attendee, Booking, BookingRules, Event, Refund, TicketCancellation
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


@pytest.fixture
def members_family(organiser, booker):
    """Bea's membership (2 included bookings a month) paid for Bea's and Al's adult tickets (£20);
    Kim's child ticket (£10) by card. The booking is made by the booking service."""
    from tests.memberships.factories import MembershipFactory

    membership = MembershipFactory(
        organiser=organiser, user=booker, plan__included_bookings=2, plan__discount_percent=0
    )
    event = EventFactory(organiser=organiser, capacity=10)
    rules(event, cancellation_fee=0)
    adult = TicketTypeFactory(event=event, name="Adult", price=2000)
    child = TicketTypeFactory(event=event, name="Child", price=1000)
    booking = services.booking_create(
        request=services.BookingRequest(
            event=event,
            booker=services.Booker(name="Bea", email=booker.email, user=booker),
            tickets=[
                services.TicketRequest(ticket_type=child, attendee_name="Kim"),
                services.TicketRequest(ticket_type=adult, attendee_name="Bea"),
                services.TicketRequest(ticket_type=adult, attendee_name="Al"),
            ],
            idempotency_key="members-family",
        )
    )
    Booking.objects.filter(pk=booking.pk).update(
        status=Booking.Status.CONFIRMED, payment_method=Booking.PaymentMethod.CARD, payment_reference="pi_x"
    )
    booking.refresh_from_db()
    bea, al = (Attendee.objects.get(booking=booking, name=name).pk for name in ("Bea", "Al"))
    return booking, membership, bea, al


def included_left(membership):
    from memberships.models import Membership

    return Membership.objects.get(pk=membership.pk).included_bookings_left


def spent_on(reference):
    from memberships.models import MembershipBookingUse

    uses = MembershipBookingUse.objects.filter(booking_reference=reference, returned_at__isnull=True)
    return sum(use.tickets for use in uses)


def test_two_partial_cancels_of_included_tickets_give_back_each_exactly_once(members_family):
    booking, membership, bea, al = members_family
    assert included_left(membership) == 0

    outcomes = race(
        [
            lambda: services.booking_cancel(booking=booking, ticket_ids=[bea], idempotency_key="a"),
            lambda: services.booking_cancel(booking=booking, ticket_ids=[al], idempotency_key="b"),
        ]
    )

    assert all(isinstance(o, Booking) for o in outcomes), outcomes
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert [a.name for a in booking.attendees.all()] == ["Kim"]
    assert (booking.total, booking.included_amount) == (1000, 0)
    assert included_left(membership) == 2 and spent_on(booking.reference) == 0
    assert not Refund.objects.filter(booking=booking, amount__gt=0).exists()


def test_two_partial_cancels_of_the_same_included_ticket_give_it_back_once(members_family):
    booking, membership, bea, _ = members_family

    outcomes = race(
        [
            lambda: services.booking_cancel(booking=booking, ticket_ids=[bea], idempotency_key="one"),
            lambda: services.booking_cancel(booking=booking, ticket_ids=[bea], idempotency_key="two"),
        ]
    )

    refused = [o for o in outcomes if isinstance(o, BookingError)]
    assert len(refused) == 1 and refused[0].message == ERRORS["tickets_changed"], outcomes
    assert included_left(membership) == 1 and spent_on(booking.reference) == 1


def test_a_partial_cancel_racing_a_move_of_the_other_included_ticket_keeps_the_allowance_right(
    members_family, organiser
):
    booking, membership, bea, al = members_family
    later = EventFactory(organiser=organiser, capacity=10)
    adult_later = TicketTypeFactory(event=later, name="Adult", price=2000)
    BookingRules.objects.filter(event=booking.event).update(
        transfer_scope=BookingRules.TransferScope.ANY_EVENT
    )

    outcomes = race(
        [
            lambda: services.booking_cancel(booking=booking, ticket_ids=[bea], idempotency_key="c"),
            lambda: services.transfer_create(
                booking=booking, ticket_type=adult_later, idempotency_key="m", ticket_ids=[al]
            ),
        ]
    )

    cancelled, transfer = outcomes
    assert isinstance(cancelled, Booking) and not isinstance(transfer, Exception), outcomes
    moved = Booking.objects.get(pk=transfer.booking_id)
    booking.refresh_from_db()
    assert moved.event_id == later.pk and moved.included_amount == 2000
    assert [a.name for a in booking.attendees.all()] == ["Kim"] and booking.included_amount == 0
    assert spent_on(moved.reference) == 1 and spent_on(booking.reference) == 0
    assert included_left(membership) == 1


def test_a_new_booking_racing_a_partial_cancel_for_the_included_booking_it_gives_back(members_family, booker):
    booking, membership, bea, _ = members_family
    elsewhere = TicketTypeFactory(event=EventFactory(organiser=booking.organiser, capacity=5), price=1500)

    def book():
        return services.booking_create(
            request=services.BookingRequest(
                event=elsewhere.event,
                booker=services.Booker(name="Bea", email=booker.email, user=booker),
                tickets=[services.TicketRequest(ticket_type=elsewhere, attendee_name="Bea")],
                idempotency_key="meanwhile",
            )
        )

    outcomes = race(
        [lambda: services.booking_cancel(booking=booking, ticket_ids=[bea], idempotency_key="c"), book]
    )

    assert all(isinstance(o, Booking) for o in outcomes), outcomes
    new = outcomes[1]
    # Either the new booking came first (nothing left: it pays) and the cancel then gave one back,
    # or the cancel came first and the new booking spent what came back: never both, never none.
    assert included_left(membership) + spent_on(new.reference) == 1
    assert new.included_amount == 1500 * spent_on(new.reference)
