"""Several places per waiting-list entry: the booker chooses all together or nothing (a family) or
as many as free up, and the organiser's rule says whether an entry that needs more places than
are free blocks the ones behind it (strict order) or lets smaller entries behind it take them."""

from __future__ import annotations

import pytest

from bookings import capacity, services
from bookings.exceptions import BookingError
from bookings.models import BookingRules, WaitingListEntry
from tests.factories import WaitingListEntryFactory
from tests.helpers import paid_booking, rules

pytestmark = pytest.mark.django_db

STRICT = BookingRules.WaitingListOrder.STRICT
FILL = BookingRules.WaitingListOrder.FILL


def status(entry) -> tuple[str, int]:
    entry.refresh_from_db()
    return entry.status, entry.quantity


def full_event(event, ticket, order, booked=4):
    event.capacity = booked
    event.save()
    rules(event, waiting_list_offer_hours=12, waiting_list_order=order)
    return [paid_booking(ticket) for _ in range(booked)]


def free(after_commit, bookings):
    for booking in bookings:
        after_commit(services.booking_cancel, booking=booking)


def test_strict_order_an_entry_needing_more_than_is_free_blocks_everyone_behind_it(
    event, ticket, after_commit
):
    booked = full_event(event, ticket, STRICT)
    family = WaitingListEntryFactory(event=event, quantity=3)
    single = WaitingListEntryFactory(event=event)

    free(after_commit, booked[:2])

    assert status(family) == ("waiting", 3)
    assert status(single) == ("waiting", 1)
    event.refresh_from_db()
    assert event.seats_held == 0 and capacity.seats_left(event) == 2  # free, but kept for the family

    free(after_commit, booked[2:3])
    assert status(family) == ("offered", 3)
    assert status(single) == ("waiting", 1)


def test_fill_rule_lets_smaller_entries_behind_take_the_places_the_front_cannot_use(
    event, ticket, after_commit
):
    booked = full_event(event, ticket, FILL)
    family = WaitingListEntryFactory(event=event, quantity=3)
    single = WaitingListEntryFactory(event=event)
    pair = WaitingListEntryFactory(event=event, quantity=2)

    free(after_commit, booked[:2])

    assert status(family) == ("waiting", 3)  # still at the front of the queue
    assert status(single) == ("offered", 1)
    assert status(pair) == ("waiting", 2)  # one place left, and it needs two
    event.refresh_from_db()
    assert event.seats_held == 1

    free(after_commit, booked[2:])
    assert status(family) == ("waiting", 3)  # two free, not three
    assert status(pair) == ("offered", 2)


def test_fill_rule_the_front_still_gets_the_next_places_that_fit_it(event, ticket, after_commit):
    booked = full_event(event, ticket, FILL)
    family = WaitingListEntryFactory(event=event, quantity=3)
    singles = [WaitingListEntryFactory(event=event) for _ in range(3)]

    free(after_commit, booked[:1])  # one place: the first single takes it
    assert [status(s)[0] for s in singles] == ["offered", "waiting", "waiting"]

    event.capacity += 3  # three more at once: the family first
    event.save()
    after_commit(services.waiting_list_offer_places_now, event=event)
    assert status(family) == ("offered", 3)
    assert [status(s)[0] for s in singles] == ["offered", "waiting", "waiting"]


def test_an_entry_taking_as_many_as_free_up_is_offered_what_is_free(event, ticket, after_commit):
    full_event(event, ticket, STRICT)
    flexible = WaitingListEntryFactory(event=event, quantity=3, accepts_fewer=True)
    single = WaitingListEntryFactory(event=event)

    event.capacity += 2  # two places free at once
    event.save()
    after_commit(services.waiting_list_offer_places_now, event=event)

    assert status(flexible) == ("offered", 2)  # the offer is for the places free
    assert status(single) == ("waiting", 1)
    event.refresh_from_db()
    assert event.seats_held == 2 and capacity.seats_recount() == []


def test_all_together_or_nothing_is_never_offered_part_of_its_places(event, ticket, after_commit):
    booked = full_event(event, ticket, STRICT)
    family = WaitingListEntryFactory(event=event, quantity=2, accepts_fewer=False)

    free(after_commit, booked[:1])
    assert status(family) == ("waiting", 2)

    free(after_commit, booked[1:2])
    assert status(family) == ("offered", 2)


def test_an_entry_that_shrinks_its_request_is_offered_the_places_free_at_once(
    event, ticket, after_commit, mailoutbox
):
    booked = full_event(event, ticket, STRICT)
    family = WaitingListEntryFactory(event=event, quantity=3)
    single = WaitingListEntryFactory(event=event)
    free(after_commit, booked[:2])
    assert status(family) == ("waiting", 3)

    after_commit(services.waiting_list_change_quantity, entry=family, quantity=2)

    assert status(family) == ("offered", 2)
    assert status(single) == ("waiting", 1)
    waiting = {family.email, single.email}
    assert [m.to for m in mailoutbox if m.to[0] in waiting] == [[family.email]]


def test_a_shrunk_request_unblocks_the_queue_behind_under_the_strict_rule(event, ticket, after_commit):
    booked = full_event(event, ticket, STRICT)
    family = WaitingListEntryFactory(event=event, quantity=4)
    single = WaitingListEntryFactory(event=event)
    free(after_commit, booked[:3])
    assert (status(family)[0], status(single)[0]) == ("waiting", "waiting")

    after_commit(services.waiting_list_change_quantity, entry=family, quantity=2)

    assert status(family) == ("offered", 2)
    assert status(single) == ("offered", 1)


def test_a_request_can_shrink_but_not_grow_nor_change_once_offered(event, ticket, after_commit):
    booked = full_event(event, ticket, STRICT)
    entry = WaitingListEntryFactory(event=event, quantity=2)

    with pytest.raises(BookingError, match="only ask for fewer"):
        services.waiting_list_change_quantity(entry=entry, quantity=3)
    with pytest.raises(BookingError, match="only ask for fewer"):
        services.waiting_list_change_quantity(entry=entry, quantity=0)
    assert status(entry) == ("waiting", 2)

    free(after_commit, booked[:2])
    assert status(entry) == ("offered", 2)
    with pytest.raises(BookingError, match="already held"):
        services.waiting_list_change_quantity(entry=entry, quantity=1)
    assert status(entry) == ("offered", 2)


def test_joining_records_the_choice_of_all_together_or_as_many_as_free_up(event, ticket, booker):
    full_event(event, ticket, STRICT, booked=2)
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=booker, email=booker.email, verified=True, primary=True)

    entry = services.waiting_list_join(
        event=event, name="Ann", email=booker.email, quantity=3, accepts_fewer=True, user=booker
    )

    assert (entry.quantity, entry.accepts_fewer) == (3, True)


def test_the_join_form_asks_for_the_choice_and_keeps_it(event, ticket, client):
    from django.urls import reverse

    full_event(event, ticket, STRICT, booked=2)
    url = reverse("waiting_list_join", args=[event.organiser.slug, event.code])

    page = client.get(url).content.decode()
    assert "All together or none" in page and "Offer me as many as free up" in page

    client.post(url, {"name": "Ann", "email": "ann@example.com", "quantity": 2, "accepts_fewer": "1"})
    client.post(url, {"name": "Bo", "email": "bo@example.com", "quantity": 2})

    assert dict(WaitingListEntry.objects.values_list("email", "accepts_fewer")) == {
        "ann@example.com": True,
        "bo@example.com": False,
    }
