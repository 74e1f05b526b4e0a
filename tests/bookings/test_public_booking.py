"""Booking end to end through the public page, with the HTTP client."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from bookings.models import Attendee, Booking, BookingFormResponse, WaitingListEntry
from tests.factories import BookingFormFieldFactory, EventFactory, TicketTypeFactory


@pytest.fixture
def event(organiser):
    event = EventFactory(organiser=organiser, title="Morning Flow", capacity=5)
    TicketTypeFactory(event=event, name="Adult", price=1200)
    TicketTypeFactory(event=event, name="Child", price=0)
    return event


def book_url(event):
    return reverse("event_book", args=[event.organiser.slug, event.code])


def tickets(event, **by_name):
    return {f"qty_{tt.pk}": by_name.get(tt.name, 0) for tt in event.ticket_types.all()}


def details(event, *, attendees, key="k1", **extra):
    data = {
        **tickets(event, **extra.pop("quantities")),
        "booker_name": "Bea Booker",
        "booker_email": "Bea@Example.com",
        "idempotency_key": key,
    }
    for i, (name, child) in enumerate(attendees):
        data[f"attendee_{i}_name"] = name
        if child:
            data[f"attendee_{i}_child"] = "on"
    return {**data, **extra}


@pytest.mark.django_db
def test_step_one_asks_how_many_tickets(client, event):
    response = client.get(book_url(event))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Adult (£12.00)" in html and "Child (Free)" in html and "5 places left" in html


@pytest.mark.django_db
def test_step_two_asks_for_a_name_per_ticket(client, event):
    response = client.get(book_url(event), tickets(event, Adult=1, Child=2))
    html = response.content.decode()
    assert "Name of attendee 3 (Child)" in html
    assert "Pay £12.00 and book" in html


@pytest.mark.django_db
def test_a_guest_books_and_pays_and_is_emailed(client, event, mailoutbox, django_capture_on_commit_callbacks):
    BookingFormFieldFactory(organiser=event.organiser, label="Injuries?", required=True)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            book_url(event),
            details(
                event,
                quantities={"Adult": 1, "Child": 1},
                attendees=[("Bea", False), ("Kit", True)],
                **{f"question_{event.organiser.bookingformfields.get().pk}": "None"},
            ),
        )

    booking = Booking.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("bookings:booking_detail", args=[booking.reference])
    assert (booking.status, booking.total, booking.user) == ("confirmed", 1200, None)
    assert booking.booker_email == "bea@example.com"
    assert booking.payment_reference.startswith("offline_pay_")
    assert [(a.name, a.is_child, a.price) for a in booking.attendees.all()] == [
        ("Bea", False, 1200),
        ("Kit", True, 0),
    ]
    assert BookingFormResponse.objects.get().answer == "None"
    assert len(mailoutbox) == 1 and "View booking" in mailoutbox[0].alternatives[0][0]
    # The booker who just booked can see it, though not logged in.
    page = client.get(response.url)
    assert page.status_code == 200 and "Kit" in page.content.decode()


@pytest.mark.django_db
def test_ticking_create_an_account_makes_one_and_logs_in(client, event):
    client.post(
        book_url(event),
        details(
            event,
            quantities={"Adult": 1},
            attendees=[("Bea", False)],
            create_account="on",
            password="a-long-pass-phrase-9",
        ),
    )

    user = User.objects.get(email="bea@example.com")
    assert Booking.objects.get().user == user
    assert user.check_password("a-long-pass-phrase-9")
    assert not user.emailaddress_set.get().verified
    assert client.get(reverse("bookings:event_list")).status_code == 200  # logged in


@pytest.mark.django_db
def test_a_logged_in_bookers_booking_is_theirs(client_as_booker, booker, event):
    client_as_booker.post(book_url(event), details(event, quantities={"Child": 1}, attendees=[("Kit", True)]))
    assert Booking.objects.get().user == booker


@pytest.mark.django_db
def test_posting_the_same_form_twice_makes_one_booking(
    client, event, mailoutbox, django_capture_on_commit_callbacks
):
    # The key of a form this browser was given (a key from elsewhere never replays a booking).
    key = client.get(book_url(event), tickets(event, Adult=2)).context["details"]["idempotency_key"].value()
    form = details(event, quantities={"Adult": 2}, attendees=[("A", False), ("B", False)], key=key)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(book_url(event), form)
        second = client.post(book_url(event), form)

    assert first.url == second.url
    assert Booking.objects.count() == 1 and Attendee.objects.count() == 2
    assert len(mailoutbox) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "quantities,error",
    [
        ({"Adult": 0}, "Choose at least one ticket"),
        ({"Adult": -1}, "greater than or equal to 0"),
        ({"Adult": 6}, "only 5 place(s) are left"),
        ({"Adult": 21}, "less than or equal to 20"),
    ],
)
def test_bad_quantities_are_refused_next_to_the_field(client, event, quantities, error):
    response = client.post(book_url(event), details(event, quantities=quantities, attendees=[]))
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Booking.objects.exists()


@pytest.mark.django_db
def test_missing_names_and_required_answers_are_refused(client, event):
    BookingFormFieldFactory(organiser=event.organiser, label="Injuries?", required=True)

    response = client.post(book_url(event), details(event, quantities={"Adult": 1}, attendees=[("", False)]))

    errors = response.context["details"].errors
    assert set(errors) == {"attendee_0_name", f"question_{event.organiser.bookingformfields.get().pk}"}
    assert not Booking.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("change", [{"status": "cancelled"}, {"starts_at": "past"}])
def test_a_cancelled_or_past_event_cannot_be_booked(client, event, change):
    if change.get("starts_at"):
        event.starts_at = timezone.now() - timedelta(hours=1)
    else:
        event.status = "cancelled"
    event.save()

    response = client.post(book_url(event), details(event, quantities={"Adult": 1}, attendees=[("A", False)]))

    assert response.status_code == 200
    assert "no longer be booked" in response.content.decode() or "cancelled" in response.content.decode()
    assert not Booking.objects.exists()


@pytest.mark.django_db
def test_another_events_ticket_type_books_nothing(client, event, organiser):
    elsewhere = TicketTypeFactory(event=EventFactory(organiser=organiser), name="Adult", price=1)
    data = details(event, quantities={}, attendees=[("A", False)])
    data[f"qty_{elsewhere.pk}"] = 1

    response = client.post(book_url(event), data)

    assert "Choose at least one ticket" in response.content.decode()
    assert not Booking.objects.exists()


@pytest.mark.django_db
def test_another_organisers_event_is_not_found_under_this_organiser(client, event, other_organiser):
    assert client.get(reverse("event_book", args=[other_organiser.slug, event.code])).status_code == 404


@pytest.mark.django_db
def test_a_full_event_offers_the_waiting_list(client, event):
    event.capacity = 0
    event.save()

    page = client.get(book_url(event))
    assert "Join waiting list" in page.content.decode()

    response = client.post(
        reverse("waiting_list_join", args=[event.organiser.slug, event.code]),
        {"name": "Wes", "email": "wes@example.com", "quantity": 1},
    )
    assert response.status_code == 302
    entry = WaitingListEntry.objects.get()
    assert (entry.email, entry.status) == ("wes@example.com", WaitingListEntry.Status.UNCONFIRMED)

    again = client.post(
        reverse("waiting_list_join", args=[event.organiser.slug, event.code]),
        {"name": "Wes", "email": "WES@example.com", "quantity": 1},
        follow=True,
    )
    assert "Check your email to confirm your place" in again.content.decode()
    assert WaitingListEntry.objects.count() == 1  # tests/security/test_waiting_list_consent.py
