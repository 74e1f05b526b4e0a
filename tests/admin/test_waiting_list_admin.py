"""The organiser sees each event's waiting list in queue order with the places asked for and the
status, and can offer places to an entry by hand (out of turn: their call), within the free
places and only for their own events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone

from bookings import capacity, services
from bookings.exceptions import BookingError
from bookings.models import WaitingListEntry
from tests.factories import EventFactory, TicketTypeFactory, WaitingListEntryFactory
from tests.helpers import paid_booking, rules

pytestmark = pytest.mark.django_db
LIST = reverse("admin:bookings_waitinglistentry_changelist")


@pytest.fixture
def full(organiser):
    event = EventFactory(organiser=organiser, title="Pottery for beginners", capacity=2)
    ticket = TicketTypeFactory(event=event)
    rules(event, waiting_list_offer_hours=12)
    paid_booking(ticket)
    paid_booking(ticket)
    start = timezone.now() - timedelta(hours=2)
    queue = [
        WaitingListEntryFactory(event=event, name="Ada First", confirmed_at=start + timedelta(minutes=3)),
        WaitingListEntryFactory(
            event=event,
            name="Bea Second",
            quantity=3,
            accepts_fewer=True,
            confirmed_at=start + timedelta(minutes=5),
        ),
        WaitingListEntryFactory(
            event=event, name="Cy Third", quantity=2, confirmed_at=start + timedelta(minutes=9)
        ),
    ]
    return event, ticket, queue


def test_the_queue_is_listed_in_order_with_places_and_status(client_as_staff, full):
    event, _, queue = full
    html = client_as_staff.get(f"{LIST}?event__id__exact={event.pk}").content.decode()

    assert html.index("Ada First") < html.index("Bea Second") < html.index("Cy Third")
    assert "up to 3" in html and "2, all together" in html
    assert html.count("Waiting") >= 3


def test_offering_a_place_by_hand_holds_it_and_emails_the_entry(
    client_as_staff, full, mailoutbox, django_capture_on_commit_callbacks
):
    event, ticket, queue = full
    event.capacity = 4  # two places free, not offered yet: the organiser gives them to Cy, out of turn
    event.save()
    cy = queue[2]

    with django_capture_on_commit_callbacks(execute=True):
        response = client_as_staff.post(
            LIST, {"action": "offer_places", ACTION_CHECKBOX_NAME: [cy.pk]}, follow=True
        )

    cy.refresh_from_db()
    assert cy.status == WaitingListEntry.Status.OFFERED and cy.quantity == 2
    assert "Offered 2 places to Cy Third" in response.content.decode()
    event.refresh_from_db()
    assert event.seats_held == 2 and capacity.seats_recount() == []
    assert [m.to for m in mailoutbox if m.to == [cy.email]] == [[cy.email]]


def test_a_place_cannot_be_offered_by_hand_without_free_places(client_as_staff, full, mailoutbox):
    event, _, queue = full

    response = client_as_staff.post(
        LIST, {"action": "offer_places", ACTION_CHECKBOX_NAME: [queue[0].pk]}, follow=True
    )

    assert "no free places" in response.content.decode()
    queue[0].refresh_from_db()
    assert queue[0].status == WaitingListEntry.Status.WAITING


def test_offer_by_hand_takes_what_is_free_for_an_entry_that_accepts_fewer(
    full, django_capture_on_commit_callbacks
):
    event, _, queue = full
    event.capacity = 3
    event.save()
    entry = services.waiting_list_offer_by_hand(entry=queue[1])
    assert (entry.status, entry.quantity) == (WaitingListEntry.Status.OFFERED, 1)
    with pytest.raises(BookingError, match="no free places"):
        services.waiting_list_offer_by_hand(entry=queue[2])
    event.capacity = 4  # one free now; Cy needs both, all together
    event.save()
    with pytest.raises(BookingError, match="needs 2 places, 1 free"):
        services.waiting_list_offer_by_hand(entry=queue[2])


def test_only_a_waiting_entry_can_be_offered_by_hand(full):
    event, _, queue = full
    event.capacity = 4
    event.save()
    services.waiting_list_leave(entry=queue[0])
    with pytest.raises(BookingError, match="not waiting"):
        services.waiting_list_offer_by_hand(entry=queue[0])


def test_another_organisers_entry_cannot_be_offered(client_as_staff, other_organiser):
    event = EventFactory(organiser=other_organiser, capacity=5)
    theirs = WaitingListEntryFactory(event=event)

    client_as_staff.post(LIST, {"action": "offer_places", ACTION_CHECKBOX_NAME: [theirs.pk]}, follow=True)

    theirs.refresh_from_db()
    assert theirs.status == WaitingListEntry.Status.WAITING
