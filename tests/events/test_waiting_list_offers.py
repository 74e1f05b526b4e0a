"""A freed seat is offered to the first person waiting, by email, with a signed link that holds
the seat for them for the organiser's time; unclaimed, it passes to the next person."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from bookings import links, selectors, services
from bookings.exceptions import ERRORS, BookingError, EventFull
from bookings.models import WaitingListEntry
from tests.factories import EventFactory, TicketTypeFactory, WaitingListEntryFactory
from tests.helpers import paid_booking, rules

pytestmark = pytest.mark.django_db


@pytest.fixture
def full(event, ticket):
    """The event with every seat booked, a rule set offering places for 12 hours, and a queue."""
    event.capacity = 2
    event.save()
    rules(event, waiting_list_offer_hours=12)
    return [paid_booking(ticket), paid_booking(ticket)]


@pytest.fixture
def queue(event, full):
    return [WaitingListEntryFactory(event=event, email=f"waiting{n}@example.com") for n in range(3)]


def token_in(message) -> str:
    url = message.body.split("Book it here: ")[1].split()[0]
    return parse_qs(urlparse(url).query)["offer"][0]


def offer_sent_to(mailoutbox, entry):
    (message,) = [m for m in mailoutbox if m.to == [entry.email]]
    return message


def book(event, ticket, who="Stranger", offer=None, seats=1):
    return services.booking_create(
        request=services.BookingRequest(
            event=event,
            booker=services.Booker(name=who, email=f"{who.lower()}@example.com"),
            tickets=[services.TicketRequest(ticket_type=ticket, attendee_name=who)] * seats,
            idempotency_key=f"book-{who}-{seats}",
            waiting_offer=offer,
        )
    )


def status(entry) -> str:
    entry.refresh_from_db()
    return entry.status


def test_a_cancellation_offers_the_seat_to_the_first_person_waiting_by_email(
    event, ticket, full, queue, after_commit, mailoutbox
):
    after_commit(services.booking_cancel, booking=full[0])

    first, second, third = queue
    first.refresh_from_db()
    assert first.status == WaitingListEntry.Status.OFFERED
    assert abs(first.offer_expires_at - (timezone.now() + timedelta(hours=12))) < timedelta(minutes=1)
    assert (status(second), status(third)) == ("waiting", "waiting")
    offers = [m for m in mailoutbox if m.to == [first.email]]
    assert len(offers) == 1 and not [m for m in mailoutbox if m.to in ([second.email], [third.email])]
    assert offers[0].subject == "A place is free: Pottery for beginners"
    assert links.waiting_list_offer_for_token(event=event, token=token_in(offers[0])) == first


def test_an_offer_holds_the_seat_for_its_holder_and_not_for_a_stranger(
    event, ticket, full, queue, after_commit, mailoutbox
):
    after_commit(services.booking_cancel, booking=full[0])
    offer = links.waiting_list_offer_for_token(
        event=event, token=token_in(offer_sent_to(mailoutbox, queue[0]))
    )

    assert selectors.seats_left(event) == 0
    assert selectors.seats_left(event, offer=offer) == 1
    with pytest.raises(EventFull):
        book(event, ticket, "Stranger")
    with pytest.raises(BookingError) as too_many:
        book(event, ticket, "Holder", offer=offer, seats=2)
    assert str(too_many.value.message) == str(ERRORS["offer_too_many"] % {"quantity": 1})

    booking = book(event, ticket, "Holder", offer=offer)

    assert booking.attendees.count() == 1
    assert status(offer) == WaitingListEntry.Status.BOOKED
    assert (
        links.waiting_list_offer_for_token(event=event, token=token_in(offer_sent_to(mailoutbox, queue[0])))
        is None
    )  # used up
    with pytest.raises(BookingError, match="expired or was already used"):
        book(event, ticket, "Holder again", offer=offer)


def test_a_transfer_away_offers_the_seat_it_freed(
    event, ticket, other_event, full, queue, after_commit, mailoutbox
):
    target = TicketTypeFactory(event=other_event, price=2000)

    after_commit(services.transfer_create, booking=full[0], ticket_type=target, idempotency_key="away")

    assert status(queue[0]) == WaitingListEntry.Status.OFFERED
    assert status(queue[1]) == WaitingListEntry.Status.WAITING
    assert [m.to for m in mailoutbox].count([queue[0].email]) == 1


def test_a_move_within_the_event_frees_no_seat(event, ticket, full, queue, after_commit):
    rules_ = event.rules
    rules_.transfer_scope = "same_event"
    rules_.save()
    other_type = TicketTypeFactory(event=event, name="Evening", price=2000)

    after_commit(services.transfer_create, booking=full[0], ticket_type=other_type, idempotency_key="within")

    assert {status(entry) for entry in queue} == {"waiting"}


def test_an_expired_offer_passes_to_the_next_person(event, ticket, full, queue, after_commit, mailoutbox):
    after_commit(services.booking_cancel, booking=full[0])
    first, second, _ = queue
    old_token = token_in(offer_sent_to(mailoutbox, queue[0]))
    WaitingListEntry.objects.filter(pk=first.pk).update(
        offer_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert links.waiting_list_offer_for_token(event=event, token=old_token) is None
    assert selectors.seats_left(event) == 1  # an expired hold holds nothing

    made = after_commit(services.waiting_list_offer_due)

    assert made == 1
    assert (status(first), status(second)) == ("expired", "offered")
    offer_email = [m for m in mailoutbox if m.to == [second.email]]
    assert len(offer_email) == 1
    assert links.waiting_list_offer_for_token(event=event, token=token_in(offer_email[0])) == second
    with pytest.raises(BookingError, match="expired or was already used"):
        book(event, ticket, "Late", offer=first)


def test_leaving_while_offered_passes_the_place_on(event, ticket, full, queue, after_commit, mailoutbox):
    after_commit(services.booking_cancel, booking=full[0])
    first, second, _ = queue

    after_commit(services.waiting_list_leave, entry=first)

    assert (status(first), status(second)) == ("left", "offered")
    assert len([m for m in mailoutbox if m.to == [second.email]]) == 1


def test_leaving_while_waiting_offers_nothing_and_leaving_twice_changes_nothing(
    event, full, queue, after_commit
):
    left = after_commit(services.waiting_list_leave, entry=queue[1])
    again = after_commit(services.waiting_list_leave, entry=queue[1])

    assert left.status == again.status == WaitingListEntry.Status.LEFT
    assert (status(queue[0]), status(queue[2])) == ("waiting", "waiting")


def test_first_come_first_served_a_party_too_big_waits_at_the_front(event, ticket, full, after_commit):
    party = WaitingListEntryFactory(event=event, quantity=2)
    single = WaitingListEntryFactory(event=event)

    after_commit(services.booking_cancel, booking=full[0])
    assert (status(party), status(single)) == ("waiting", "waiting")

    after_commit(services.booking_cancel, booking=full[1])
    assert (status(party), status(single)) == ("offered", "waiting")


def test_a_raised_capacity_is_offered_by_the_periodic_task(event, full, queue, after_commit, mailoutbox):
    event.capacity = 4
    event.save()

    assert after_commit(services.waiting_list_offer_due) == 2
    assert [status(entry) for entry in queue] == ["offered", "offered", "waiting"]
    assert after_commit(services.waiting_list_offer_due) == 0  # the held places are not offered twice
    assert len(mailoutbox) == 2


def test_no_offers_for_a_cancelled_or_started_event(organiser, after_commit):
    for event in [
        EventFactory(organiser=organiser, capacity=1, status="cancelled"),
        EventFactory(organiser=organiser, capacity=1, starts_at=timezone.now() - timedelta(minutes=5)),
    ]:
        entry = WaitingListEntryFactory(event=event)
        with django_atomic():
            assert services.waiting_list_offer_places(event=event) == []
        assert status(entry) == "waiting"


def test_a_tampered_or_misdirected_token_is_refused(event, ticket, full, queue, after_commit, organiser):
    after_commit(services.booking_cancel, booking=full[0])
    token = links.waiting_list_offer_token(queue[0])

    assert links.waiting_list_offer_for_token(event=event, token=token) == queue[0]
    assert links.waiting_list_offer_for_token(event=event, token=token[:-2] + "xx") is None
    assert links.waiting_list_offer_for_token(event=EventFactory(organiser=organiser), token=token) is None
    assert (
        links.waiting_list_offer_for_token(event=event, token=links.waiting_list_offer_token(queue[1]))
        is None
    )  # not offered


def test_the_offer_link_points_at_the_events_booking_page(event, full, queue, after_commit):
    after_commit(services.booking_cancel, booking=full[0])
    url = links.waiting_list_offer_url(queue[0])
    assert f"/{event.organiser.slug}/events/{event.code}/?offer=" in url


def test_the_offer_email_goes_out_once_however_often_the_task_runs(
    event, full, queue, after_commit, mailoutbox
):
    from bookings import emails

    after_commit(services.booking_cancel, booking=full[0])
    before = len(mailoutbox)

    assert emails.waiting_list_send_offer(entry_id=queue[0].pk) is False
    assert emails.waiting_list_send_offer(entry_id=queue[1].pk) is False  # never offered
    assert len(mailoutbox) == before


def django_atomic():
    from django.db import transaction

    return transaction.atomic()


def test_a_transfer_cannot_take_a_seat_held_for_an_offer(event, ticket, full, queue, after_commit, organiser):
    after_commit(services.booking_cancel, booking=full[0])  # the freed seat is held for queue[0]
    elsewhere = EventFactory(organiser=organiser)
    rules(elsewhere)
    mover = paid_booking(TicketTypeFactory(event=elsewhere, price=2000))

    with pytest.raises(EventFull):
        after_commit(services.transfer_create, booking=mover, ticket_type=ticket, idempotency_key="into")

    mover.refresh_from_db()
    assert mover.event == elsewhere
    assert status(queue[0]) == WaitingListEntry.Status.OFFERED


def test_an_offer_only_books_its_own_event(event, ticket, full, queue, after_commit, organiser):
    after_commit(services.booking_cancel, booking=full[0])
    elsewhere = EventFactory(organiser=organiser)

    with pytest.raises(BookingError, match="expired or was already used"):
        book(elsewhere, TicketTypeFactory(event=elsewhere), "Holder", offer=queue[0])
    assert status(queue[0]) == WaitingListEntry.Status.OFFERED


def test_an_offer_must_last_at_least_an_hour(organiser):
    from django.core.exceptions import ValidationError

    from tests.factories import BookingRulesFactory

    with pytest.raises(ValidationError):
        BookingRulesFactory.build(organiser=organiser, event=None, waiting_list_offer_hours=0).full_clean()


def test_the_counters_agree_with_the_rows_and_places_left_count_only_live_offers(organiser):
    """The event row's counters say what its rows say, in every state. An offer past its time
    still counts in seats_held until it is expired under the event's lock, but holds nothing."""
    from bookings import capacity
    from bookings.models import Booking
    from tests.factories import AttendeeFactory, BookingFactory

    event = EventFactory(organiser=organiser, capacity=20)
    for status in [Booking.Status.CONFIRMED, Booking.Status.PENDING, Booking.Status.CANCELLED]:
        AttendeeFactory.create_batch(2, booking=BookingFactory(event=event, status=status))
    AttendeeFactory(booking=BookingFactory(event=EventFactory(organiser=organiser)))  # another event
    live = WaitingListEntryFactory(
        event=event,
        quantity=3,
        status=WaitingListEntry.Status.OFFERED,
        offer_expires_at=timezone.now() + timedelta(hours=2),
    )
    WaitingListEntryFactory(
        event=event,
        quantity=5,
        status=WaitingListEntry.Status.OFFERED,
        offer_expires_at=timezone.now() - timedelta(hours=1),
    )
    WaitingListEntryFactory(event=event, quantity=5)

    event.refresh_from_db()
    assert (event.seats_taken, event.seats_held) == (4, 3 + 5)
    assert capacity.seats_recount() == []
    assert selectors.seats_left(event) == 20 - 4 - 3
    assert selectors.seats_left(event, offer=live) == 20 - 4
