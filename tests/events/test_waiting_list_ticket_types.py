"""Waiting for a ticket type. An event's places are one pool (its capacity, across its ticket
types), so everyone waiting competes for the same places: the queue, and the position it shows,
are the event's. A booker may name the ticket they wait for; it matters where a type has its own
limit (say, two child places): an offer then needs room within that limit too, a place freed of
another type passes that entry by (it keeps its turn), and a child place freed goes to the people
waiting for child places, in order, under the organiser's strict or fill rule."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.apps import apps
from django.urls import reverse

from bookings import selectors, services
from bookings.emails import waiting_list_send_confirmation, waiting_list_send_offer
from bookings.exceptions import BookingError, EventFull
from bookings.models import BookingRules, WaitingListEntry
from tests.factories import TicketTypeFactory, WaitingListEntryFactory
from tests.helpers import paid_booking, rules

pytestmark = pytest.mark.django_db

STRICT = BookingRules.WaitingListOrder.STRICT
FILL = BookingRules.WaitingListOrder.FILL


@pytest.fixture
def adult(event):
    return TicketTypeFactory(event=event, organiser=event.organiser, name="Adult", price=2000)


@pytest.fixture
def child(event):
    return TicketTypeFactory(event=event, organiser=event.organiser, name="Child", price=1000, capacity=2)


def setup(event, adult, child, *, capacity, adults, children, order=STRICT):
    """The event with `capacity` places, `adults` and `children` booked one per booking."""
    event.capacity = capacity
    event.save()
    rules(event, waiting_list_offer_hours=12, waiting_list_order=order)
    return [paid_booking(adult) for _ in range(adults)], [paid_booking(child) for _ in range(children)]


def state(entry) -> tuple[str, int]:
    entry.refresh_from_db()
    return entry.status, entry.quantity


def join(event, email, **kwargs):
    return services.waiting_list_join(event=event, name="Someone", email=email, **kwargs)


# Joining --------------------------------------------------------------------------------------


def test_a_booker_may_name_the_ticket_they_wait_for(event, adult, child):
    setup(event, adult, child, capacity=4, adults=2, children=2)

    join(event, "parent@example.com", ticket_type=child)
    join(event, "anyone@example.com")

    assert WaitingListEntry.objects.get(email="parent@example.com").ticket_type == child
    assert WaitingListEntry.objects.get(email="anyone@example.com").ticket_type is None  # any ticket


def test_an_event_with_one_ticket_type_waits_for_that_type(event, ticket):
    event.capacity = 1
    event.save()
    paid_booking(ticket)

    join(event, "solo@example.com")

    assert WaitingListEntry.objects.get(email="solo@example.com").ticket_type == ticket


def test_another_events_ticket_type_is_refused(event, adult, child, other_event):
    setup(event, adult, child, capacity=4, adults=2, children=2)
    elsewhere = TicketTypeFactory(event=other_event, organiser=other_event.organiser)

    with pytest.raises(BookingError, match="Choose one of this event's tickets"):
        join(event, "x@example.com", ticket_type=elsewhere)


def test_a_sold_out_ticket_type_can_be_waited_for_while_other_tickets_are_free(event, adult, child):
    setup(event, adult, child, capacity=6, adults=2, children=2)  # 2 places left, no child place

    join(event, "parent@example.com", ticket_type=child)
    assert WaitingListEntry.objects.filter(email="parent@example.com").exists()
    for kwargs in [{"ticket_type": adult}, {}]:
        with pytest.raises(BookingError, match="still has places"):
            join(event, "adult@example.com", **kwargs)


def test_the_join_form_asks_which_ticket_and_the_booking_page_offers_a_sold_out_types_list(
    client, event, adult, child
):
    setup(event, adult, child, capacity=6, adults=2, children=2)
    book_page = client.get(reverse("event_book", args=[event.organiser.slug, event.code])).content.decode()
    join_url = reverse("waiting_list_join", args=[event.organiser.slug, event.code])

    assert "Child tickets are sold out." in book_page
    assert f'href="{join_url}?ticket={child.pk}"' in book_page
    assert "Adult tickets are sold out." not in book_page

    form = client.get(join_url, {"ticket": child.pk}).content.decode()
    assert '<label for="id_ticket_type">Ticket' in form
    assert f'<option value="{child.pk}" selected>Child</option>' in form
    assert '<option value="">Any ticket</option>' in form

    client.post(
        join_url,
        {
            "name": "Pat",
            "email": "pat@example.com",
            "quantity": 1,
            "accepts_fewer": "0",
            "ticket_type": child.pk,
        },
    )
    assert WaitingListEntry.objects.get(email="pat@example.com").ticket_type == child


def test_the_join_form_refuses_a_ticket_type_of_another_event_or_organiser(
    client, event, adult, child, other_organiser
):
    from tests.factories import EventFactory

    setup(event, adult, child, capacity=4, adults=2, children=2)
    foreign = TicketTypeFactory(
        event=EventFactory(organiser=other_organiser, capacity=0),
        organiser=other_organiser,
        name="Secret VIP",
    )
    join_url = reverse("waiting_list_join", args=[event.organiser.slug, event.code])

    page = client.post(
        join_url,
        {
            "name": "Eve",
            "email": "eve@example.com",
            "quantity": 1,
            "accepts_fewer": "0",
            "ticket_type": foreign.pk,
        },
    )

    assert page.status_code == 200 and "Select a valid choice" in page.content.decode()
    assert not WaitingListEntry.objects.filter(email="eve@example.com").exists()
    assert "Secret VIP" not in client.get(join_url, {"ticket": foreign.pk}).content.decode()


# Offers ---------------------------------------------------------------------------------------


def test_an_adult_place_freed_passes_by_the_child_waiting_who_keeps_their_turn(
    event, adult, child, after_commit
):
    adults, _ = setup(event, adult, child, capacity=4, adults=2, children=2)
    waiting_child = WaitingListEntryFactory(event=event, ticket_type=child)
    anyone = WaitingListEntryFactory(event=event)

    after_commit(services.booking_cancel, booking=adults[0])

    assert state(waiting_child) == ("waiting", 1)  # no child place: it could not use the offer
    assert state(anyone) == ("offered", 1)
    assert selectors.waiting_list_position(entry=waiting_child) == 1


def test_a_child_place_freed_goes_to_the_child_waiting_first(event, adult, child, after_commit):
    _, children = setup(event, adult, child, capacity=4, adults=2, children=2)
    waiting_child = WaitingListEntryFactory(event=event, ticket_type=child)
    anyone = WaitingListEntryFactory(event=event)

    after_commit(services.booking_cancel, booking=children[0])

    assert state(waiting_child) == ("offered", 1)
    assert state(anyone) == ("waiting", 1)


@pytest.mark.parametrize(
    ("order", "second_child", "adult_behind"),
    [
        # Strict: the family blocks the child behind it, not the adult waiting for other places.
        (STRICT, ("waiting", 1), ("offered", 1)),
        # Fill: the child behind takes the child place the family can't use.
        (FILL, ("offered", 1), ("offered", 1)),
    ],
)
def test_the_organisers_rule_applies_within_a_ticket_types_queue(
    event, adult, child, after_commit, order, second_child, adult_behind
):
    _, children = setup(event, adult, child, capacity=6, adults=2, children=2, order=order)
    family = WaitingListEntryFactory(event=event, ticket_type=child, quantity=2)
    small = WaitingListEntryFactory(event=event, ticket_type=child)
    grown_up = WaitingListEntryFactory(event=event, ticket_type=adult)
    # (The adult joined when the event was full; the event now has 2 places, 1 of them for a child.)

    after_commit(services.booking_cancel, booking=children[0])

    assert state(family) == ("waiting", 2)
    assert state(small) == second_child
    assert state(grown_up) == adult_behind


def test_a_child_place_held_for_an_offer_is_not_booked_by_someone_else(event, adult, child, after_commit):
    _, children = setup(event, adult, child, capacity=6, adults=2, children=2)
    waiting_child = WaitingListEntryFactory(event=event, ticket_type=child, email="held@example.com")
    after_commit(services.booking_cancel, booking=children[0])
    waiting_child.refresh_from_db()
    assert waiting_child.status == "offered"

    def book(who, offer=None):
        return services.booking_create(
            request=services.BookingRequest(
                event=event,
                booker=services.Booker(name=who, email=f"{who}@example.com"),
                tickets=[services.TicketRequest(ticket_type=child, attendee_name=who)],
                idempotency_key=f"child-{who}",
                waiting_offer=offer,
            )
        )

    with pytest.raises(EventFull):
        book("stranger")
    book("held", offer=waiting_child)  # the holder books it
    waiting_child.refresh_from_db()
    assert waiting_child.status == "booked"


def test_an_offer_by_hand_says_when_the_ticket_types_limit_has_no_room(event, adult, child):
    setup(event, adult, child, capacity=6, adults=2, children=2)
    waiting_child = WaitingListEntryFactory(event=event, ticket_type=child, name="Kim")

    with pytest.raises(BookingError, match="Kim waits for Child tickets: 0 free"):
        services.waiting_list_offer_by_hand(entry=waiting_child)


def test_notify_everyone_tells_only_those_whose_ticket_has_room(
    event, adult, child, after_commit, mailoutbox
):
    adults, _ = setup(event, adult, child, capacity=4, adults=2, children=2)
    rule = BookingRules.objects.get(event=event)
    rule.waiting_list_offer_mode = BookingRules.WaitingListOfferMode.NOTIFY_ALL
    rule.save()
    WaitingListEntryFactory(event=event, ticket_type=child, email="child@example.com")
    WaitingListEntryFactory(event=event, email="any@example.com")

    after_commit(services.booking_cancel, booking=adults[0])

    told = {m.to[0] for m in mailoutbox if m.to[0].endswith("@example.com") and "place" in m.subject.lower()}
    assert "any@example.com" in told and "child@example.com" not in told


# Position -------------------------------------------------------------------------------------


def test_everyone_waiting_stands_in_the_events_one_line_whatever_ticket_they_want(event, adult, child):
    # The places are one pool: a child place is also one of the event's places, so the people
    # ahead who wait for any ticket can take it first. The position never promises too much.
    setup(event, adult, child, capacity=4, adults=2, children=2)
    entries = [
        WaitingListEntryFactory(event=event, ticket_type=child),
        WaitingListEntryFactory(event=event),
        WaitingListEntryFactory(event=event, ticket_type=adult),
        WaitingListEntryFactory(event=event, ticket_type=child),
    ]
    assert [selectors.waiting_list_position(entry=e) for e in entries] == [1, 2, 3, 4]


def test_an_entry_for_one_ticket_type_also_learns_its_place_among_those_who_could_take_that_ticket(
    event, adult, child
):
    # Among the entries needing places of that ticket type: the same type's, and any ticket's (a
    # place freed within the type's own limit can go to either); an adult's entry never counts.
    setup(event, adult, child, capacity=4, adults=2, children=2)
    entries = [
        WaitingListEntryFactory(event=event, ticket_type=adult),
        WaitingListEntryFactory(event=event, ticket_type=child),
        WaitingListEntryFactory(event=event, ticket_type=adult),
        WaitingListEntryFactory(event=event),
        WaitingListEntryFactory(event=event, ticket_type=child),
    ]

    assert [selectors.waiting_list_type_position(entry=e) for e in entries] == [1, 1, 2, None, 3]
    services.waiting_list_leave(entry=entries[1])
    entries[4].refresh_from_db()
    assert selectors.waiting_list_type_position(entry=entries[4]) == 2


def test_the_tab_and_the_page_give_both_places_in_line(event, adult, child, booker, client_as_booker):
    setup(event, adult, child, capacity=4, adults=2, children=2)
    WaitingListEntryFactory(event=event, ticket_type=adult)
    WaitingListEntryFactory(event=event, ticket_type=adult)
    mine = WaitingListEntryFactory(event=event, ticket_type=child, user=booker, email=booker.email)

    tab = client_as_booker.get(reverse("bookings:event_list") + "?tab=waiting").content.decode()
    page = client_as_booker.get(reverse("bookings:waiting_detail", args=[mine.code])).content.decode()

    assert "3rd in line" in tab and "1st for Child tickets" in tab
    assert "3rd in line" in page and "1st</strong> among the people waiting for Child tickets" in page

    mine.ticket_type = adult  # now 3rd either way: said once
    mine.save()
    tab = client_as_booker.get(reverse("bookings:event_list") + "?tab=waiting").content.decode()
    assert "3rd in line" in tab and "for Adult tickets" not in tab


# Existing entries -----------------------------------------------------------------------------


def test_existing_entries_wait_for_the_only_ticket_type_or_for_any(event, ticket, other_event):
    for name in ["First", "Second"]:
        TicketTypeFactory(event=other_event, organiser=other_event.organiser, name=name)
    one = WaitingListEntryFactory(event=event)  # `event` sells one ticket type
    several = WaitingListEntryFactory(event=other_event)
    WaitingListEntry.objects.update(ticket_type=None)  # as before the migration

    import_module("bookings.migrations.0020_waiting_list_ticket_type").entries_name_the_only_ticket_type(
        apps, None
    )

    one.refresh_from_db()
    several.refresh_from_db()
    assert one.ticket_type == ticket
    assert several.ticket_type is None


# Emails ---------------------------------------------------------------------------------------


def test_the_confirm_and_offer_emails_name_the_ticket_waited_for(event, adult, child, mailoutbox):
    setup(event, adult, child, capacity=4, adults=2, children=2)
    entry = WaitingListEntryFactory(event=event, ticket_type=child)
    waiting_list_send_confirmation(entry_id=entry.pk, joined=True)
    entry.status, entry.offer_expires_at = WaitingListEntry.Status.OFFERED, event.starts_at
    entry.save()
    waiting_list_send_offer(entry_id=entry.pk)

    assert len(mailoutbox) == 2
    for message in mailoutbox:
        assert "Tickets: Child" in message.body and "Tickets: Child" in message.alternatives[0][0]
