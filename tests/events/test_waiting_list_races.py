"""The waiting list under real concurrency (Postgres): offers, claims, leaves and expiries all run
under the event's lock, so a place is never given twice, lost, or held for nobody."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from bookings import capacity, services
from bookings.exceptions import BookingError, EventFull
from bookings.models import Attendee, BookingRules, WaitingListEntry
from tests.factories import EventFactory, TicketTypeFactory, WaitingListEntryFactory
from tests.helpers import paid_booking, rules
from tests.races import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
Status = WaitingListEntry.Status


def race(jobs):
    def run(index):
        try:
            return jobs[index]()
        except Exception as exc:  # noqa: BLE001 - the outcome is what we assert on
            return exc

    return at_once(len(jobs), run)


def claim(event, ticket, entry, who):
    def job():
        return services.booking_create(
            request=services.BookingRequest(
                event=event,
                booker=services.Booker(name=who, email=f"{who.lower()}@example.com"),
                tickets=[services.TicketRequest(ticket_type=ticket, attendee_name=who)],
                idempotency_key=f"claim-{who}",
                waiting_offer=entry,
            )
        )

    return job


@pytest.fixture
def full(organiser):
    event = EventFactory(organiser=organiser, capacity=2)
    ticket = TicketTypeFactory(event=event, price=0)
    booked = [paid_booking(ticket), paid_booking(ticket)]
    return event, ticket, booked


def consistent(event):
    event.refresh_from_db()
    assert capacity.seats_recount() == []  # the counters agree with the rows
    assert event.seats_taken + event.seats_held <= event.capacity
    assert (
        Attendee.objects.filter(booking__event=event, booking__status="confirmed").count() <= event.capacity
    )


def test_two_notified_entries_claiming_one_place_exactly_one_gets_it(full):
    event, ticket, booked = full
    rules(event, waiting_list_offer_mode=BookingRules.WaitingListOfferMode.NOTIFY_ALL)
    first, second = WaitingListEntryFactory(event=event), WaitingListEntryFactory(event=event)
    services.booking_cancel(booking=booked[0])
    first.refresh_from_db(), second.refresh_from_db()
    assert first.notified_at and second.notified_at

    outcomes = race([claim(event, ticket, first, "First"), claim(event, ticket, second, "Second")])

    assert sum(isinstance(o, EventFull) for o in outcomes) == 1, outcomes
    statuses = sorted(
        WaitingListEntry.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)
    )
    assert statuses == [Status.BOOKED, Status.WAITING]
    consistent(event)


def test_two_tabs_claiming_one_held_place_book_it_once(full):
    event, ticket, booked = full
    rules(event)
    entry = WaitingListEntryFactory(event=event)
    services.booking_cancel(booking=booked[0])
    entry.refresh_from_db()
    assert entry.status == Status.OFFERED

    outcomes = race([claim(event, ticket, entry, "TabOne"), claim(event, ticket, entry, "TabTwo")])

    assert sum(isinstance(o, BookingError) for o in outcomes) == 1, outcomes
    entry.refresh_from_db()
    assert entry.status == Status.BOOKED
    event.refresh_from_db()
    assert (event.seats_taken, event.seats_held) == (2, 0)
    consistent(event)


def test_an_offer_expiring_while_it_is_claimed_is_either_booked_or_passed_on_never_both(full):
    event, ticket, booked = full
    rules(event)
    holder, next_in_line = WaitingListEntryFactory(event=event), WaitingListEntryFactory(event=event)
    services.booking_cancel(booking=booked[0])
    holder.refresh_from_db()
    assert holder.status == Status.OFFERED
    ends = timezone.now() + timedelta(milliseconds=400)
    WaitingListEntry.objects.filter(pk=holder.pk).update(offer_expires_at=ends)

    def at_the_deadline(job):
        def run():
            time.sleep(max((ends - timezone.now()).total_seconds(), 0))
            return job()

        return run

    outcomes = race(
        [
            at_the_deadline(claim(event, ticket, holder, "Holder")),
            at_the_deadline(services.waiting_list_offer_due),
        ]
    )

    holder.refresh_from_db(), next_in_line.refresh_from_db()
    if holder.status == Status.BOOKED:  # the claim came first: nothing to pass on
        assert next_in_line.status == Status.WAITING
        assert not isinstance(outcomes[0], Exception)
    else:  # the expiry came first: the claim is refused and the place goes to the next person
        assert holder.status == Status.EXPIRED
        assert isinstance(outcomes[0], BookingError)
        assert next_in_line.status == Status.OFFERED
    consistent(event)


def test_a_leave_racing_an_offer_passes_the_place_to_the_next_person(full):
    event, ticket, booked = full
    rules(event)
    leaving, next_in_line = WaitingListEntryFactory(event=event), WaitingListEntryFactory(event=event)

    outcomes = race(
        [
            lambda: services.booking_cancel(booking=booked[0]),
            lambda: services.waiting_list_leave(entry=leaving),
        ]
    )

    assert not any(isinstance(o, Exception) for o in outcomes), outcomes
    leaving.refresh_from_db(), next_in_line.refresh_from_db()
    assert (leaving.status, next_in_line.status) == (Status.LEFT, Status.OFFERED)
    event.refresh_from_db()
    assert event.seats_held == 1  # held once, for the next person; the leaver's hold went back
    consistent(event)


def test_a_child_place_held_for_an_offer_and_a_stranger_booking_it_at_once_exactly_one_gets_it(organiser):
    # Places for other tickets are free: only the child type's own limit is contested.
    event = EventFactory(organiser=organiser, capacity=6)
    child = TicketTypeFactory(event=event, organiser=organiser, name="Child", price=0, capacity=1)
    TicketTypeFactory(event=event, organiser=organiser, name="Adult", price=0)
    rules(event, waiting_list_offer_hours=12)
    booked = paid_booking(child)
    waiting = WaitingListEntryFactory(event=event, ticket_type=child)
    services.booking_cancel(booking=booked)
    waiting.refresh_from_db()
    assert waiting.status == Status.OFFERED

    outcomes = race([claim(event, child, waiting, "Holder"), claim(event, child, None, "Stranger")])

    assert isinstance(outcomes[1], EventFull), outcomes  # the held child place is not the stranger's
    assert not isinstance(outcomes[0], Exception), outcomes
    assert Attendee.objects.filter(ticket_type=child, booking__status="confirmed").count() == 1
    consistent(event)
