"""The portal's Events section as the booker uses it: tabs, Manage, Transfer, Cancel, Leave list."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bookings import links
from bookings.models import Attendee, Booking, BookingRules, Refund, Transfer, WaitingListEntry
from tests.bookings.test_public_booking import details
from tests.factories import (
    AttendeeFactory,
    BookingFactory,
    BookingRulesFactory,
    EventFactory,
    TicketTypeFactory,
    UserFactory,
    WaitingListEntryFactory,
)
from tests.helpers import in_days

EVENTS = reverse("bookings:event_list")


def event_at(organiser, days: float, **fields):
    return EventFactory(organiser=organiser, starts_at=in_days(days), **fields)  # ends an hour later


def booking_of(user, event, *, price=1000, seats=1, **fields):
    fields.setdefault("booker_email", user.email)
    booking = BookingFactory(
        event=event, user=user, total=price * seats, payment_reference="pi_paid", **fields
    )
    ticket_type = TicketTypeFactory(event=event, price=price)
    for n in range(seats):
        AttendeeFactory(booking=booking, ticket_type=ticket_type, price=price, name=f"Guest {n}")
    return booking


def references(response) -> set[str]:
    return set(re.findall(r'id="booking-([A-Z0-9]{8})"', response.content.decode()))


@pytest.fixture
def rules(organiser):
    return BookingRulesFactory(
        organiser=organiser,
        event=None,
        transfer_cutoff_hours=24,
        cancellation_cutoff_hours=48,
        cancellation_fee=200,
    )


@pytest.fixture
def at_two_organisers(booker, other_booker, organiser, other_organiser):
    """Our booker's bookings at two organisers, one of each kind, and another booker's."""
    mine = {
        "upcoming": [
            booking_of(booker, event_at(organiser, 5)),
            booking_of(booker, event_at(other_organiser, 9)),
        ],
        "pending": booking_of(booker, event_at(organiser, 6), status=Booking.Status.PENDING),
        "cancelled_by_me": booking_of(
            booker,
            event_at(organiser, 7),
            status=Booking.Status.CANCELLED,
            cancelled_by=Booking.CancelledBy.BOOKER,
            cancelled_at=timezone.now(),
        ),
        "cancelled_by_organiser_past": booking_of(
            booker,
            event_at(other_organiser, -3, status="cancelled"),
            status=Booking.Status.CANCELLED,
            cancelled_by=Booking.CancelledBy.ORGANISER,
            cancelled_at=in_days(-4),
        ),
        "abandoned_checkout": booking_of(booker, event_at(organiser, 8), status=Booking.Status.CANCELLED),
        "past": booking_of(booker, event_at(other_organiser, -10)),
    }
    theirs = booking_of(other_booker, event_at(organiser, 5))
    booking_of(other_booker, event_at(organiser, -5))
    return mine, theirs


@pytest.mark.django_db
def test_each_tab_lists_exactly_the_bookers_own_bookings_of_that_kind(client_as_booker, at_two_organisers):
    mine, theirs = at_two_organisers

    def tab(name, **extra):
        return references(client_as_booker.get(EVENTS, {"tab": name, **extra}))

    upcoming = {b.reference for b in mine["upcoming"]} | {mine["pending"].reference}
    assert tab("upcoming") == upcoming
    assert tab("cancelled") == {
        mine["cancelled_by_me"].reference,
        mine["cancelled_by_organiser_past"].reference,
    }
    assert tab("past") == {mine["past"].reference, mine["cancelled_by_organiser_past"].reference}
    assert theirs.reference not in tab("upcoming") | tab("past") | tab("cancelled")


@pytest.mark.django_db
def test_the_organiser_filter_narrows_every_tab(client_as_booker, at_two_organisers, organiser):
    mine, _ = at_two_organisers
    response = client_as_booker.get(EVENTS, {"tab": "upcoming", "organiser": organiser.slug})
    assert references(response) == {mine["upcoming"][0].reference, mine["pending"].reference}
    assert references(client_as_booker.get(EVENTS, {"tab": "past", "organiser": organiser.slug})) == set()


@pytest.mark.django_db
def test_the_waiting_tab_lists_open_places_on_upcoming_events(
    client_as_booker, booker, other_booker, organiser
):
    waiting = WaitingListEntryFactory(event=event_at(organiser, 3), user=booker, email=booker.email)
    WaitingListEntryFactory(event=event_at(organiser, 4), user=booker, status=WaitingListEntry.Status.LEFT)
    WaitingListEntryFactory(event=event_at(organiser, 3), user=other_booker)
    content = client_as_booker.get(EVENTS, {"tab": "waiting"}).content.decode()
    assert re.findall(r'id="waiting-([0-9a-f-]{36})"', content) == [str(waiting.code)]


@pytest.mark.django_db
@pytest.mark.parametrize("tab", ["upcoming", "cancelled", "past", "waiting"])
def test_an_empty_tab_says_so(client_as_booker, tab):
    response = client_as_booker.get(EVENTS, {"tab": tab})
    assert response.status_code == 200
    assert 'class="empty-state"' in response.content.decode()


@pytest.mark.django_db
def test_a_tab_switch_by_htmx_gets_only_the_tab_panel(client_as_booker, htmx):
    response = client_as_booker.get(EVENTS, {"tab": "past"}, **htmx)
    content = response.content.decode()
    assert content.lstrip().startswith('<div id="tab-panel"')
    assert "<html" not in content


@pytest.mark.django_db
def test_past_bookings_show_attendance_and_children(client_as_booker, booker, organiser):
    organiser.attendance_tracking = True
    organiser.save()
    booking = booking_of(booker, event_at(organiser, -2), seats=3)
    came, absent, child = booking.attendees.order_by("pk")
    Attendee.objects.filter(pk=absent.pk).update(attendance=Attendee.Attendance.ABSENT)
    Attendee.objects.filter(pk=child.pk).update(is_child=True, name="Kit")
    content = client_as_booker.get(EVENTS, {"tab": "past"}).content.decode()
    assert content.count(">Attended<") == 2  # an unmarked past attendee counts as attended
    assert content.count(">Did not attend<") == 1
    assert '<span class="visually-hidden">Child: </span>Kit' in content


@pytest.mark.django_db
def test_without_attendance_tracking_past_attendees_show_booked(client_as_booker, booker, organiser):
    booking_of(booker, event_at(organiser, -2))
    assert ">Booked<" in client_as_booker.get(EVENTS, {"tab": "past"}).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("tab", ["upcoming", "past", "cancelled", "waiting"])
def test_the_events_page_makes_the_same_few_queries_for_5_or_200_bookings(
    client_as_booker, booker, organiser, other_organiser, tab, django_assert_max_num_queries
):
    def add(count):
        for n in range(count):
            org = organiser if n % 2 else other_organiser
            days = -n - 1 if tab == "past" else n + 2
            booking = booking_of(
                booker,
                event_at(org, days),
                seats=2,
                **(
                    {"status": Booking.Status.CANCELLED, "cancelled_by": Booking.CancelledBy.BOOKER}
                    if tab == "cancelled"
                    else {}
                ),
            )
            WaitingListEntryFactory(
                event=event_at(org, n + 2), user=booker, email=f"w{n}-{booking.pk}@example.com"
            )

    # With the cards' cache missing (new rows each time): user, nav, organisers, count, the page's
    # ids and updated_at, their attendees', then the cards' bookings and attendees.
    add(5)
    with django_assert_max_num_queries(9):
        assert client_as_booker.get(EVENTS, {"tab": tab}).status_code == 200
    add(195)
    with django_assert_max_num_queries(9):
        response = client_as_booker.get(EVENTS, {"tab": tab})
    assert len(references(response)) == (0 if tab == "waiting" else 20)  # paginated


@pytest.mark.django_db
def test_a_page_of_cached_cards_is_drawn_without_loading_the_bookings(client_as_booker, booker, organiser):
    """Issue 12: on a cache hit only the ids and updated_at of the page's rows are read."""
    for n in range(3):
        booking_of(booker, event_at(organiser, n + 2), seats=2)
    with CaptureQueriesContext(connection) as drawing:
        first = client_as_booker.get(EVENTS)
    with CaptureQueriesContext(connection) as cached:
        again = client_as_booker.get(EVENTS)

    assert references(again) == references(first) and len(references(again)) == 3
    assert len(cached) == len(drawing) - 2  # the bookings and their attendees
    assert not any('"booker_name"' in query["sql"] for query in cached.captured_queries)


# Manage, Cancel ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_manage_offers_only_what_the_rules_allow_and_says_why(client_as_booker, booker, organiser, rules):
    soon = booking_of(booker, event_at(organiser, 1.5))  # inside the 48 h cancellation cut-off
    content = client_as_booker.get(reverse("bookings:booking_manage", args=[soon.reference])).content.decode()
    assert reverse("bookings:booking_transfer", args=[soon.reference]) in content
    assert reverse("bookings:booking_cancel", args=[soon.reference]) not in content
    assert "Cancellations close 48 hours before the event." in content


@pytest.mark.django_db
def test_the_cancel_dialog_states_the_refund_before_anything_happens(
    client_as_booker, booker, organiser, rules
):
    booking = booking_of(booker, event_at(organiser, 5), price=1500)
    content = client_as_booker.get(
        reverse("bookings:booking_cancel", args=[booking.reference])
    ).content.decode()
    assert "You will get <strong>£13.00</strong> back" in content
    assert "cancellation fee of £2.00" in content
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


@pytest.mark.django_db
def test_cancelling_without_javascript_redirects_to_the_booking_and_emails_once(
    client_as_booker, booker, organiser, rules, mailoutbox, django_capture_on_commit_callbacks
):
    booking = booking_of(booker, event_at(organiser, 5))
    url = reverse("bookings:booking_cancel", args=[booking.reference])
    with django_capture_on_commit_callbacks(execute=True):
        first = client_as_booker.post(url)
    with django_capture_on_commit_callbacks(execute=True):
        again = client_as_booker.post(url)  # a double click, a replay
    assert first.status_code == again.status_code == 302
    assert first["Location"] == reverse("bookings:booking_detail", args=[booking.reference])
    booking.refresh_from_db()
    assert (booking.status, booking.cancelled_by) == (Booking.Status.CANCELLED, Booking.CancelledBy.BOOKER)
    refund = Refund.objects.get(booking=booking)
    assert (refund.amount, refund.fee_kept, refund.status) == (800, 200, Refund.Status.SUCCEEDED)
    assert [m.subject for m in mailoutbox] == [f"Cancelled: {booking.event.title} ({booking.reference})"]


@pytest.mark.django_db
def test_cancelling_with_htmx_refreshes_the_page_it_came_from(
    client_as_booker, booker, organiser, rules, htmx
):
    booking = booking_of(booker, event_at(organiser, 5))
    response = client_as_booker.post(
        reverse("bookings:booking_cancel", args=[booking.reference]),
        HTTP_HX_CURRENT_URL="http://testserver/portal/events/",
        **htmx,
    )
    assert response.status_code == 200
    assert response["HX-Refresh"] == "true"


@pytest.mark.django_db
def test_a_refused_cancel_says_why_and_changes_nothing(client_as_booker, booker, organiser):
    booking = booking_of(booker, event_at(organiser, 5))  # no rules: cancellations are off
    response = client_as_booker.post(reverse("bookings:booking_cancel", args=[booking.reference]))
    assert response.status_code == 409
    assert "doesn&#x27;t allow cancellations" in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert not Refund.objects.exists()


@pytest.mark.django_db
def test_a_booking_opened_from_a_signed_link_can_be_cancelled_without_an_account(
    client, booker, organiser, rules
):
    booking = booking_of(booker, event_at(organiser, 5))
    from bookings import links

    client.get(links.view_booking_url(booking).removeprefix("http://testserver"))
    assert client.post(reverse("bookings:booking_cancel", args=[booking.reference])).status_code == 302
    booking.refresh_from_db()
    assert booking.is_cancelled


# Transfer ---------------------------------------------------------------------------------------


@pytest.fixture
def move(booker, organiser, rules):
    """A booking of £10 and a later event with a £6 and a £14 ticket."""
    booking = booking_of(booker, event_at(organiser, 5))
    later = event_at(organiser, 12, title="Evening Flow")
    cheaper = TicketTypeFactory(event=later, name="Concession", price=600)
    dearer = TicketTypeFactory(event=later, name="Premium", price=1400)
    return booking, later, cheaper, dearer


def transfer_url(booking, **params):
    url = reverse("bookings:booking_transfer", args=[booking.reference])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


@pytest.mark.django_db
def test_transfer_goes_event_then_ticket_then_review(client_as_booker, move):
    booking, later, cheaper, dearer = move
    step1 = client_as_booker.get(transfer_url(booking)).content.decode()
    assert "step 1 of 3" in step1 and "Evening Flow" in step1
    step2 = client_as_booker.get(transfer_url(booking, event=later.code)).content.decode()
    assert "step 2 of 3" in step2
    assert "Concession" in step2 and "£4.00 back" in step2
    assert "Premium" in step2 and "you pay £4.00 more" in step2
    step3 = client_as_booker.get(transfer_url(booking, event=later.code, ticket=cheaper.pk)).content.decode()
    assert "step 3 of 3" in step3 and "Confirm transfer" in step3
    assert "<strong>£4.00</strong> back to your original payment" in step3


def confirm(client, booking, ticket_type, key="move-1"):
    return client.post(
        transfer_url(booking, event=ticket_type.event.code, ticket=ticket_type.pk),
        {
            "event": ticket_type.event.code,
            "ticket": ticket_type.pk,
            "from": booking.event.code,
            "idempotency_key": key,
        },
    )


@pytest.mark.django_db
def test_confirming_a_cheaper_transfer_moves_the_booking_refunds_and_emails_a_fresh_link(
    client_as_booker, move, mailoutbox, django_capture_on_commit_callbacks
):
    booking, later, cheaper, _ = move
    with django_capture_on_commit_callbacks(execute=True):
        response = confirm(client_as_booker, booking, cheaper)
    assert response.status_code == 302
    booking.refresh_from_db()
    assert (booking.event, booking.total) == (later, 600)
    assert set(booking.attendees.values_list("ticket_type", flat=True)) == {cheaper.pk}
    refund = Refund.objects.get(booking=booking, reason=Refund.Reason.TRANSFER)
    assert (refund.amount, refund.status) == (400, Refund.Status.SUCCEEDED)
    (email,) = mailoutbox
    assert email.subject == f"Moved: your booking {booking.reference} is now for Evening Flow"
    assert "/portal/link/" in email.body


@pytest.mark.django_db
def test_a_dearer_transfer_is_paid_before_it_completes(client_as_booker, move):
    booking, later, _, dearer = move
    assert confirm(client_as_booker, booking, dearer).status_code == 302  # the offline gateway pays at once
    transfer = Transfer.objects.get(booking=booking)
    assert transfer.status == Transfer.Status.COMPLETED
    assert transfer.payment_reference
    booking.refresh_from_db()
    assert (booking.event, booking.total) == (later, 1400)


@pytest.mark.django_db
def test_confirming_the_same_transfer_twice_moves_it_once(client_as_booker, move):
    booking, later, cheaper, _ = move
    confirm(client_as_booker, booking, cheaper)
    confirm(client_as_booker, booking, cheaper)
    assert Transfer.objects.filter(booking=booking).count() == 1
    assert Refund.objects.filter(booking=booking).count() == 1


@pytest.mark.django_db
def test_a_transfer_confirmed_from_a_stale_page_is_refused(client_as_booker, move):
    booking, later, cheaper, dearer = move
    confirm(client_as_booker, booking, cheaper, key="first")
    # `booking` is the page as it was: its form still names the first event as "from".
    response = confirm(client_as_booker, booking, dearer, key="second")
    assert response.status_code == 409
    assert "This booking changed while you were looking at it" in response.content.decode()
    assert Transfer.objects.filter(booking=booking).count() == 1


@pytest.mark.django_db
def test_the_rules_price_difference_refusal_reaches_the_booker(client_as_booker, move, rules):
    booking, later, cheaper, dearer = move
    rules.price_difference = BookingRules.PriceDifference.SAME_PRICE_ONLY
    rules.save()
    response = client_as_booker.get(transfer_url(booking, event=later.code, ticket=dearer.pk))
    assert "You can only swap to a ticket of the same price." in response.content.decode()
    assert response.status_code == 409
    assert confirm(client_as_booker, booking, dearer).status_code == 409
    booking.refresh_from_db()
    assert booking.event != later


@pytest.mark.django_db
def test_an_event_the_rules_do_not_allow_is_not_offered_and_cannot_be_forced(
    client_as_booker, move, organiser, rules
):
    booking, later, cheaper, _ = move
    rules.transfer_scope = BookingRules.TransferScope.SAME_EVENT
    rules.save()
    assert "Evening Flow" not in client_as_booker.get(transfer_url(booking)).content.decode()
    # Naming it anyway just shows the allowed events again.
    assert "step 1 of 3" in client_as_booker.get(transfer_url(booking, event=later.code)).content.decode()
    confirm(client_as_booker, booking, cheaper)
    booking.refresh_from_db()
    assert booking.event != later


@pytest.mark.django_db
def test_another_organisers_ticket_type_cannot_be_named(client_as_booker, move, other_organiser):
    booking, later, cheaper, _ = move
    foreign = TicketTypeFactory(event=event_at(other_organiser, 8), price=0)
    response = client_as_booker.get(transfer_url(booking, event=later.code, ticket=foreign.pk))
    assert "step 2 of 3" in response.content.decode()  # not a ticket of that event: choose again


# Waiting list -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_leaving_the_waiting_list_confirms_first_then_leaves(client_as_booker, booker, organiser):
    entry = WaitingListEntryFactory(event=event_at(organiser, 3), user=booker, email=booker.email)
    url = reverse("bookings:waiting_leave", args=[entry.code])
    assert "Leave the waiting list?" in client_as_booker.get(url).content.decode()
    response = client_as_booker.post(url)
    assert response.status_code == 302
    assert response["Location"] == EVENTS + "?tab=waiting"
    entry.refresh_from_db()
    assert entry.status == WaitingListEntry.Status.LEFT


@pytest.mark.django_db
def test_waiting_list_options_show_the_event_and_a_held_place(client_as_booker, booker, organiser):
    entry = WaitingListEntryFactory(
        event=event_at(organiser, 3, title="Full Moon Flow"),
        user=booker,
        email=booker.email,
        status=WaitingListEntry.Status.OFFERED,
        offer_expires_at=in_days(1),
    )
    content = client_as_booker.get(reverse("bookings:waiting_detail", args=[entry.code])).content.decode()
    assert "Full Moon Flow" in content and "A place is held for you" in content and "?offer=" in content


@pytest.mark.django_db
def test_a_held_place_can_be_booked_through_its_link_but_not_by_a_stranger(client, organiser, booker):
    full = event_at(organiser, 3, capacity=1)
    ticket_type = TicketTypeFactory(event=full, name="Adult", price=0)
    entry = WaitingListEntryFactory(
        event=full,
        status=WaitingListEntry.Status.OFFERED,
        offer_expires_at=in_days(1),
        email="wait@example.com",
    )
    url = reverse("event_book", args=[organiser.slug, full.code])
    stranger = client.post(url, details(full, attendees=[("Sam", False)], quantities={"Adult": 1}, key="s"))
    assert not Booking.objects.filter(event=full).exists()
    assert stranger.status_code == 200
    token = links.waiting_list_offer_token(entry)
    holder = client.post(
        url, details(full, attendees=[("Wen", False)], quantities={"Adult": 1}, key="w", offer=token)
    )
    assert holder.status_code == 302
    assert Booking.objects.get(event=full).attendees.get().ticket_type == ticket_type
    entry.refresh_from_db()
    assert entry.status == WaitingListEntry.Status.BOOKED


@pytest.mark.django_db
def test_raising_capacity_in_the_admin_offers_the_new_places_at_once(
    client_as_staff, organiser, mailoutbox, django_capture_on_commit_callbacks
):
    full = event_at(organiser, 4, capacity=1, title="Sold Out Flow")
    booking_of(UserFactory(), full)
    entry = WaitingListEntryFactory(event=full, email="next@example.com")
    change_url = reverse("admin:bookings_event_change", args=[full.pk])
    data = {
        "title": full.title,
        "description": "",
        "venue": "",
        "starts_at_0": timezone.localtime(full.starts_at).strftime("%Y-%m-%d"),
        "starts_at_1": timezone.localtime(full.starts_at).strftime("%H:%M:%S"),
        "ends_at_0": timezone.localtime(full.ends_at).strftime("%Y-%m-%d"),
        "ends_at_1": timezone.localtime(full.ends_at).strftime("%H:%M:%S"),
        "capacity": 2,
    }
    for inline in client_as_staff.get(change_url).context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as_staff.post(change_url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    entry.refresh_from_db()
    assert entry.status == WaitingListEntry.Status.OFFERED
    assert [m.to for m in mailoutbox] == [["next@example.com"]]


@pytest.mark.django_db
def test_choosing_an_event_to_move_to_costs_the_same_queries_for_2_or_20_events(
    client_as_booker, move, organiser, django_assert_max_num_queries
):
    booking, *_ = move
    with django_assert_max_num_queries(12):
        first = client_as_booker.get(transfer_url(booking))
    for days in range(13, 31):
        event_at(organiser, days)
    with django_assert_max_num_queries(12):
        more = client_as_booker.get(transfer_url(booking))
    assert first.content.decode().count('class="meta"') < more.content.decode().count('class="meta"')
