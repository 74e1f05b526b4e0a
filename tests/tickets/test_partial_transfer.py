"""Transfer some tickets: the moved tickets become a booking of their own at the target (own
reference, View booking link, email); the rest stay. And change ticket type within the event."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bookings import services
from bookings.exceptions import ERRORS, BookingError
from bookings.models import Booking, BookingRules, Event, Refund, Transfer
from tests.factories import AttendeeFactory, EventFactory, TicketTypeFactory
from tests.helpers import in_days, paid_booking, rules

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(organiser, booker):
    """Bea and Kim, £20 each, on one £40 booking of Sunrise; a later event with a £15 ticket."""
    event = EventFactory(organiser=organiser, title="Sunrise", starts_at=in_days(5), capacity=10)
    rules(event, transfer_scope=BookingRules.TransferScope.ANY_EVENT)
    drop_in = TicketTypeFactory(event=event, name="Drop-in", price=2000)
    booking = paid_booking(drop_in, total=4000, user=booker, booker_email=booker.email)
    booking.attendees.update(name="Bea")
    AttendeeFactory(booking=booking, ticket_type=drop_in, name="Kim")
    later = EventFactory(organiser=organiser, title="Evening", starts_at=in_days(9), capacity=10)
    cheaper = TicketTypeFactory(event=later, name="Concession", price=1500)
    return booking, cheaper


def kim(booking):
    return booking.attendees.get(name="Kim")


def test_moving_one_ticket_makes_it_a_booking_of_its_own_at_the_target(
    pair, after_commit, mailoutbox, booker
):
    booking, cheaper = pair
    kim_ticket = kim(booking)

    transfer = after_commit(
        services.transfer_create,
        booking=booking,
        ticket_type=cheaper,
        idempotency_key="move",
        ticket_ids=[kim_ticket.pk],
    )

    moved = transfer.booking
    assert moved.pk != booking.pk and moved.reference != booking.reference
    assert transfer.status == Transfer.Status.COMPLETED
    moved.refresh_from_db()
    booking.refresh_from_db()
    assert (moved.event, moved.user, moved.booker_email) == (cheaper.event, booker, booker.email)
    assert [a.name for a in moved.attendees.all()] == ["Kim"]
    assert [a.name for a in booking.attendees.all()] == ["Bea"]
    assert (booking.total, moved.total) == (2000, 1500)
    assert Refund.objects.get(transfer=transfer).amount == 500  # £20 paid, £15 now
    assert Event.objects.get(pk=booking.event_id).seats_taken == 1
    assert Event.objects.get(pk=cheaper.event_id).seats_taken == 1
    (message,) = mailoutbox
    assert moved.reference in message.subject or moved.reference in message.body
    assert "/portal/link/" in message.body  # the new booking's own View booking link


def test_the_same_move_posted_twice_splits_once(pair, after_commit):
    booking, cheaper = pair
    ids = [kim(booking).pk]
    first = after_commit(
        services.transfer_create, booking=booking, ticket_type=cheaper, idempotency_key="k", ticket_ids=ids
    )
    again = after_commit(
        services.transfer_create, booking=booking, ticket_type=cheaper, idempotency_key="k", ticket_ids=ids
    )
    assert first.pk == again.pk
    assert Booking.objects.count() == 2


def test_a_refused_move_splits_nothing(pair, after_commit, organiser):
    booking, _ = pair
    elsewhere = TicketTypeFactory(event=EventFactory(organiser=organiser, starts_at=in_days(-1)))
    with pytest.raises(BookingError, match=str(ERRORS["target_not_allowed"])):
        after_commit(
            services.transfer_create,
            booking=booking,
            ticket_type=elsewhere,
            idempotency_key="k",
            ticket_ids=[kim(booking).pk],
        )
    assert Booking.objects.count() == 1 and booking.attendees.count() == 2


def test_changing_one_tickets_type_within_the_event(pair, after_commit):
    booking, _ = pair
    concession = TicketTypeFactory(event=booking.event, name="Concession", price=1200)

    transfer = after_commit(
        services.transfer_create,
        booking=booking,
        ticket_type=concession,
        idempotency_key="type",
        ticket_ids=[kim(booking).pk],
    )

    moved = transfer.booking
    assert moved.event_id == booking.event_id
    assert [(a.name, a.ticket_type.name) for a in moved.attendees.all()] == [("Kim", "Concession")]
    assert Refund.objects.get(transfer=transfer).amount == 800
    assert Event.objects.get(pk=booking.event_id).seats_taken == 2  # same event, same seats


def test_the_dialog_asks_which_tickets_first_and_carries_them_through_the_steps(pair, client_as_booker):
    booking, cheaper = pair
    url = reverse("bookings:booking_transfer", args=[booking.reference])
    first = client_as_booker.get(url).content.decode()
    assert "Which tickets do you want to move?" in first

    kim_id = kim(booking).pk
    step1 = client_as_booker.get(url, {"choosing": "1", "move": [kim_id]}).content.decode()
    assert "step 1 of 3" in step1 and "Evening" in step1
    assert "Sunrise" in step1  # the same event: another ticket type
    assert f"&amp;move={kim_id}" in step1
    review = client_as_booker.get(
        url, {"choosing": "1", "move": [kim_id], "event": str(cheaper.event.code), "ticket": cheaper.pk}
    ).content.decode()
    assert "Concession × 1" in review and "Kim" in review and "as a booking of their own" in review
    assert "£5.00</strong> back" in review


def test_confirming_a_move_of_one_ticket_without_javascript_opens_the_new_booking(
    pair, client_as_booker, django_capture_on_commit_callbacks
):
    booking, cheaper = pair
    url = reverse("bookings:booking_transfer", args=[booking.reference])
    data = {
        "choosing": "1",
        "move": [kim(booking).pk],
        "event": str(cheaper.event.code),
        "ticket": cheaper.pk,
        "from": str(booking.event.code),
        "idempotency_key": "browserless",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as_booker.post(url, data)

    moved = Transfer.objects.get().booking
    assert response["Location"] == reverse("bookings:booking_detail", args=[moved.reference])
    page = client_as_booker.get(response["Location"]).content.decode()
    assert f"1 ticket moved to Evening as booking {moved.reference}" in page


def test_choosing_no_ticket_to_move_asks_again(pair, client_as_booker):
    booking, _ = pair
    url = reverse("bookings:booking_transfer", args=[booking.reference])
    content = client_as_booker.get(url, {"choosing": "1"}).content.decode()
    assert "Choose at least one ticket to move." in content


def test_another_bookings_ticket_slipped_into_the_move_stays_where_it_is(
    pair, client_as_booker, other_booker, django_capture_on_commit_callbacks
):
    booking, cheaper = pair
    stranger = AttendeeFactory(booking__user=other_booker, booking__status=Booking.Status.CONFIRMED)
    data = {
        "choosing": "1",
        "move": [kim(booking).pk, stranger.pk],
        "event": str(cheaper.event.code),
        "ticket": cheaper.pk,
        "from": str(booking.event.code),
        "idempotency_key": "slipped",
    }
    with django_capture_on_commit_callbacks(execute=True):
        client_as_booker.post(reverse("bookings:booking_transfer", args=[booking.reference]), data)

    stranger.refresh_from_db()
    assert stranger.booking.user == other_booker and stranger.booking.event != cheaper.event
    assert not Transfer.objects.filter(booking=stranger.booking).exists()
    assert [ticket.name for ticket in Transfer.objects.get().booking.attendees.all()] == ["Kim"]
