"""A booker sees where they stand ("3rd in line") on the Waiting list tab and on their place's page,
counted among the people still waiting for that event, kept right as people ahead leave or book;
nobody learns who else is waiting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings import selectors, services
from bookings.models import WaitingListEntry
from tests.factories import EventFactory, WaitingListEntryFactory
from tests.helpers import paid_booking, rules

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(event, ticket):
    """A full event and four people waiting, confirmed in this order."""
    event.capacity = 1
    event.save()
    rules(event, waiting_list_offer_hours=12)
    paid_booking(ticket)
    start = timezone.now() - timedelta(hours=1)
    return [
        WaitingListEntryFactory(
            event=event,
            name=f"Person {n}",
            email=f"p{n}@example.com",
            confirmed_at=start + timedelta(minutes=n),
        )
        for n in range(4)
    ]


def positions(entries):
    return [selectors.waiting_list_position(entry=entry) for entry in entries]


def test_the_position_counts_the_people_waiting_ahead(queue):
    assert positions(queue) == [1, 2, 3, 4]


def test_the_position_moves_up_as_people_ahead_leave(queue, after_commit):
    after_commit(services.waiting_list_leave, entry=queue[1])
    queue[1].refresh_from_db()
    assert positions([queue[0], queue[2], queue[3]]) == [1, 2, 3]
    assert selectors.waiting_list_position(entry=queue[1]) is None  # left: no longer in line


def test_an_offered_place_leaves_the_line_and_the_rest_move_up(queue, event, after_commit):
    event.capacity += 1
    event.save()
    after_commit(services.waiting_list_offer_places_now, event=event)
    queue[0].refresh_from_db()
    assert queue[0].status == WaitingListEntry.Status.OFFERED
    assert positions(queue) == [None, 1, 2, 3]


def test_other_events_queues_do_not_count(queue, organiser):
    other = EventFactory(organiser=organiser, capacity=0)
    WaitingListEntryFactory(event=other, confirmed_at=timezone.now() - timedelta(days=1))
    assert positions(queue) == [1, 2, 3, 4]


def test_the_tab_and_the_page_say_3rd_in_line_and_no_one_elses_name(queue, client_as_booker, booker):
    mine = queue[2]
    WaitingListEntry.objects.filter(pk=mine.pk).update(user=booker)

    tab = client_as_booker.get(reverse("bookings:event_list") + "?tab=waiting").content.decode()
    page = client_as_booker.get(reverse("bookings:waiting_detail", args=[mine.code])).content.decode()

    for html in [tab, page]:
        assert "3rd in line" in html
        for other in [queue[0], queue[1], queue[3]]:
            assert other.name not in html and other.email not in html


def test_the_tab_gives_each_place_its_position(queue, booker, organiser):
    for _ in range(3):
        event = EventFactory(organiser=organiser, capacity=0)
        WaitingListEntryFactory(event=event, user=booker, email=booker.email)
    WaitingListEntry.objects.filter(pk=queue[3].pk).update(user=booker)
    entries = list(selectors.booking_tab_for_booker(user=booker, tab="waiting").cards)
    assert sorted(entry.position for entry in entries) == [1, 1, 1, 4]
