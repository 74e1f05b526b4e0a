"""The booker's changes racing each other on real Postgres transactions: nothing oversold,
nothing refunded twice, no booking lost, no deadlock."""

from __future__ import annotations

import threading
import time
from unittest import mock

import pytest
from django.db import transaction

from bookings import emails, selectors, services
from bookings.exceptions import ERRORS, BookingError, EventFull
from bookings.models import Attendee, Booking, Refund, Transfer
from bookings.services import changes
from portal.models import Organiser
from tests.factories import EventFactory, TicketTypeFactory
from tests.helpers import in_days, paid_booking, rules
from tests.races import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(jobs):
    """Run every job at the same moment, each in its own thread with its own connection;
    returns what each returned, or the exception it raised."""

    def run(index):
        try:
            return jobs[index]()
        except Exception as exc:  # noqa: BLE001 - the outcome is what we assert on
            return exc

    return at_once(len(jobs), run)


def test_thirty_transfers_into_four_free_seats_move_exactly_four_and_lose_none(organiser, mailoutbox):
    source = EventFactory(organiser=organiser, capacity=40, title="Source")
    target = EventFactory(organiser=organiser, capacity=10, title="Target", starts_at=in_days(10))
    rules(source)
    from_ticket = TicketTypeFactory(event=source, price=1000)
    to_ticket = TicketTypeFactory(event=target, price=1000)
    for _ in range(6):
        paid_booking(to_ticket)
    movers = [paid_booking(from_ticket) for _ in range(30)]

    outcomes = race(
        [
            lambda b=booking: services.transfer_create(
                booking=b, ticket_type=to_ticket, idempotency_key=f"move-{b.pk}"
            )
            for booking in movers
        ]
    )

    moved = [o for o in outcomes if isinstance(o, Transfer)]
    full = [o for o in outcomes if isinstance(o, EventFull)]
    assert len(moved) == 4 and len(full) == 26, [
        repr(o) for o in outcomes if not isinstance(o, Transfer | EventFull)
    ]
    assert all(t.status == Transfer.Status.COMPLETED for t in moved)
    assert Attendee.objects.filter(booking__event=target).count() == 10  # never oversold
    assert Booking.objects.filter(event=source, status="confirmed").count() == 26
    assert Attendee.objects.filter(booking__in=movers).count() == 30  # nobody lost a ticket
    assert Booking.objects.filter(pk__in=[b.pk for b in movers], event=target).count() == 4
    assert Transfer.objects.count() == 4
    assert len(mailoutbox) == 4


def test_the_same_cancel_posted_ten_times_at_once_refunds_once_and_emails_once(organiser, mailoutbox):
    event = EventFactory(organiser=organiser, capacity=5)
    rules(event, cancellation_fee=100)
    booking = paid_booking(TicketTypeFactory(event=event, price=2500), seats=2)

    outcomes = race([lambda: services.booking_cancel(booking=booking)] * 10)

    assert all(isinstance(o, Booking) and o.is_cancelled for o in outcomes), outcomes
    refund = Refund.objects.get(booking=booking)
    assert (refund.amount, refund.fee_kept, refund.status) == (4900, 100, Refund.Status.SUCCEEDED)
    assert len(mailoutbox) == 1
    assert selectors.seats_left(event) == 5


def test_opposite_transfers_at_once_do_not_deadlock(organiser):
    a = EventFactory(organiser=organiser, capacity=20, title="A")
    b = EventFactory(organiser=organiser, capacity=20, title="B", starts_at=in_days(9))
    rules(a)
    rules(b)
    a_ticket, b_ticket = TicketTypeFactory(event=a, price=1000), TicketTypeFactory(event=b, price=1000)
    a_to_b = [paid_booking(a_ticket) for _ in range(5)]
    b_to_a = [paid_booking(b_ticket) for _ in range(5)]

    jobs = [
        lambda bk=booking, tt=to: services.transfer_create(booking=bk, ticket_type=tt, idempotency_key="swap")
        for bookings_, to in [(a_to_b, b_ticket), (b_to_a, a_ticket)]
        for booking in bookings_
    ]
    outcomes = race(jobs)

    assert all(isinstance(o, Transfer) and o.status == "completed" for o in outcomes), outcomes
    assert set(Booking.objects.filter(pk__in=[x.pk for x in a_to_b]).values_list("event", flat=True)) == {
        b.pk
    }
    assert set(Booking.objects.filter(pk__in=[x.pk for x in b_to_a]).values_list("event", flat=True)) == {
        a.pk
    }


def test_a_transfer_racing_a_cancel_of_the_same_booking_does_one_or_the_other(organiser, mailoutbox):
    source = EventFactory(organiser=organiser, capacity=5)
    target = EventFactory(organiser=organiser, capacity=5, starts_at=in_days(9))
    rules(source)
    to_ticket = TicketTypeFactory(event=target, price=1000)
    booking = paid_booking(TicketTypeFactory(event=source, price=1000))

    transferred, cancelled = race(
        [
            lambda: services.transfer_create(booking=booking, ticket_type=to_ticket, idempotency_key="t"),
            lambda: services.booking_cancel(booking=booking),
        ]
    )

    booking.refresh_from_db()
    if isinstance(transferred, Transfer):  # the move won: the cancel saw a changed booking
        assert isinstance(cancelled, BookingError) and str(cancelled.message) == str(
            ERRORS["booking_changed"]
        )
        assert (booking.status, booking.event) == ("confirmed", target)
        assert not Refund.objects.exists()
    else:  # the cancel won: the move saw a cancelled booking
        assert isinstance(cancelled, Booking), cancelled
        assert str(transferred.message) == str(ERRORS["already_cancelled"])
        assert (booking.status, booking.event) == ("cancelled", source)
        assert Refund.objects.count() == 1
    assert Attendee.objects.filter(booking=booking).count() == 1
    assert len(mailoutbox) == 1  # the move's or the cancellation's, never both


def test_a_cancellation_email_going_out_while_the_cancel_is_replayed_does_not_deadlock(organiser, mailoutbox):
    event = EventFactory(organiser=organiser, capacity=5)
    rules(event)
    booking = paid_booking(
        TicketTypeFactory(event=event), status="cancelled", cancelled_by=Booking.CancelledBy.BOOKER
    )  # cancelled a moment ago; its settle task is about to email the booker
    replay_holds_the_event = threading.Event()
    lock_booking = changes.booking_lock

    def lock_booking_slowly(booking):
        replay_holds_the_event.set()
        time.sleep(0.5)  # the email goes out meanwhile
        return lock_booking(booking)

    def replay():
        return services.booking_cancel(booking=booking)

    def email():
        replay_holds_the_event.wait(5)
        return emails.booking_send_cancelled(booking=booking, refund=None)

    with mock.patch.object(changes, "booking_lock", lock_booking_slowly):
        replayed, emailed = race([replay, email])

    assert isinstance(replayed, Booking) and replayed.is_cancelled, replayed
    assert emailed is True, emailed
    assert len(mailoutbox) == 1


def test_a_move_into_an_event_and_a_cancel_on_it_at_once_do_not_deadlock(organiser):
    first = EventFactory(organiser=organiser, capacity=5)  # the lower pk: locked first
    second = EventFactory(organiser=organiser, capacity=5, starts_at=in_days(9))
    rules(first)
    rules(second)
    mover = paid_booking(TicketTypeFactory(event=first, price=1000))
    into = TicketTypeFactory(event=second, price=1000)
    canceller = paid_booking(into)
    held = threading.Event()

    def organiser_saves_their_profile():  # holds the organiser row while both bookers queue
        with transaction.atomic():
            Organiser.objects.select_for_update().get(pk=organiser.pk)
            held.set()
            time.sleep(0.8)
        return "saved"

    def move():
        held.wait(5)
        return services.transfer_create(booking=mover, ticket_type=into, idempotency_key="in")

    def cancel():
        held.wait(5)
        time.sleep(0.3)  # after the move has taken the first event and queued for the organiser
        return services.booking_cancel(booking=canceller)

    saved, moved, cancelled = race([organiser_saves_their_profile, move, cancel])

    assert saved == "saved"
    assert isinstance(moved, Transfer) and moved.status == "completed", moved
    assert isinstance(cancelled, Booking) and cancelled.is_cancelled, cancelled


def test_the_same_transfer_confirm_posted_ten_times_at_once_moves_once(organiser, mailoutbox):
    source = EventFactory(organiser=organiser, capacity=5)
    target = EventFactory(organiser=organiser, capacity=5, starts_at=in_days(9))
    rules(source)
    to_ticket = TicketTypeFactory(event=target, price=1000)
    booking = paid_booking(TicketTypeFactory(event=source, price=1000))

    outcomes = race(
        [lambda: services.transfer_create(booking=booking, ticket_type=to_ticket, idempotency_key="once")]
        * 10
    )

    assert all(isinstance(o, Transfer) for o in outcomes), outcomes
    assert len({o.pk for o in outcomes}) == 1
    assert Transfer.objects.count() == 1
    assert Attendee.objects.filter(booking__event=target).count() == 1
    assert len(mailoutbox) == 1


def test_a_dearer_moves_payment_reported_five_times_at_once_completes_it_once(organiser, mailoutbox):
    source = EventFactory(organiser=organiser, capacity=5)
    target = EventFactory(organiser=organiser, capacity=5, starts_at=in_days(9))
    rules(source)
    booking = paid_booking(TicketTypeFactory(event=source, price=1000))
    pending = services.transfer_create(
        booking=booking, ticket_type=TicketTypeFactory(event=target, price=1800), idempotency_key="up"
    )
    assert pending.status == Transfer.Status.PENDING

    outcomes = race(
        [lambda: services.transfer_complete_payment(transfer=pending, payment_reference="pi_up")] * 5
    )

    assert all(isinstance(o, Transfer) and o.status == "completed" for o in outcomes), outcomes
    booking.refresh_from_db()
    assert (booking.event, booking.total) == (target, 1800)
    assert not Refund.objects.exists()  # the payment was not mistaken for a failed move's
    assert len(mailoutbox) == 1


def test_an_offer_holder_booking_while_leaving_does_one_or_the_other(organiser):
    from tests.factories import WaitingListEntryFactory

    event = EventFactory(organiser=organiser, capacity=1)
    rules(event)
    ticket = TicketTypeFactory(event=event, price=0)
    taken = paid_booking(ticket)
    holder, next_in_line = WaitingListEntryFactory(event=event), WaitingListEntryFactory(event=event)
    services.booking_cancel(booking=taken)
    holder.refresh_from_db()
    assert holder.status == "offered"

    booked, left = race(
        [
            lambda: services.booking_create(
                request=services.BookingRequest(
                    event=event,
                    booker=services.Booker(name="Holder", email=holder.email),
                    tickets=[services.TicketRequest(ticket_type=ticket, attendee_name="Holder")],
                    idempotency_key="holder",
                    waiting_offer=holder,
                )
            ),
            lambda: services.waiting_list_leave(entry=holder),
        ]
    )

    holder.refresh_from_db()
    next_in_line.refresh_from_db()
    assert Attendee.objects.filter(booking__event=event, booking__status="confirmed").count() <= 1
    if isinstance(booked, Booking):  # booked first: leaving afterwards changes nothing
        assert (holder.status, next_in_line.status) == ("booked", "waiting")
    else:  # left first: the place went to the next person, and the holder's link is dead
        assert isinstance(booked, BookingError), booked
        assert (holder.status, next_in_line.status) == ("left", "offered")
    assert isinstance(left, type(holder))
