"""The event's capacity in the admin: never below the places booked and held for waiting-list
offers (the database would refuse it), said in words the organiser can act on."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings.models import Event, TicketType, WaitingListEntry
from tests.factories import EventFactory, TicketTypeFactory, WaitingListEntryFactory
from tests.helpers import paid_booking

pytestmark = pytest.mark.django_db


def change(client, event, capacity):
    url = reverse("admin:bookings_event_change", args=[event.pk])
    page = client.get(url)
    data = {
        "title": event.title,
        "description": "",
        "venue": "",
        "starts_at_0": timezone.localtime(event.starts_at).strftime("%Y-%m-%d"),
        "starts_at_1": timezone.localtime(event.starts_at).strftime("%H:%M:%S"),
        "ends_at_0": timezone.localtime(event.ends_at).strftime("%Y-%m-%d"),
        "ends_at_1": timezone.localtime(event.ends_at).strftime("%H:%M:%S"),
        "capacity": capacity,
    }
    for inline in page.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    return client.post(url, data)


@pytest.fixture
def event(organiser):
    event = EventFactory(organiser=organiser, capacity=10, title="Pottery")
    paid_booking(TicketTypeFactory(event=event), seats=4)
    return event


def test_a_capacity_below_the_places_booked_is_refused_and_says_why(client_as_staff, event):
    response = change(client_as_staff, event, 3)

    assert response.status_code == 200
    assert (
        "4 places are already booked, so the capacity can&#x27;t be lower than that"
        in response.content.decode()
    )
    assert Event.objects.get(pk=event.pk).capacity == 10


def test_a_capacity_below_the_places_booked_and_held_says_both(client_as_staff, event):
    WaitingListEntryFactory(
        event=event,
        quantity=2,
        status=WaitingListEntry.Status.OFFERED,
        offer_expires_at=timezone.now() + timezone.timedelta(hours=3),
    )

    response = change(client_as_staff, event, 5)

    assert "4 places are booked and 2 are held for people on the waiting list" in response.content.decode()
    assert Event.objects.get(pk=event.pk).capacity == 10


def test_the_capacity_may_come_down_to_the_places_booked(client_as_staff, event):
    response = change(client_as_staff, event, 4)

    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.capacity, event.seats_taken) == (4, 4)


def test_a_raised_capacity_is_offered_to_the_waiting_list_at_once(
    client_as_staff, event, django_capture_on_commit_callbacks
):
    waiting = WaitingListEntryFactory(event=event, quantity=2)

    with django_capture_on_commit_callbacks(execute=True):
        response = change(client_as_staff, event, 12)

    assert response.status_code == 302
    waiting.refresh_from_db()
    event.refresh_from_db()
    assert waiting.status == WaitingListEntry.Status.OFFERED
    assert (event.capacity, event.seats_taken, event.seats_held) == (12, 4, 2)


# A ticket type's own limit, raised: the people waiting for that ticket are offered it at once.


@pytest.fixture
def child_waiting(event):
    """Room in the event (4 of 10 booked), none in its Child tickets (2 of 2): a parent waits."""
    child = TicketTypeFactory(event=event, organiser=event.organiser, name="Child", price=500, capacity=2)
    paid_booking(child, seats=2)
    return child, WaitingListEntryFactory(event=event, ticket_type=child)


def ticket_type_fields(ticket_type) -> dict:
    return {
        "name": ticket_type.name,
        "price": f"{ticket_type.price / 100:.2f}",
        "capacity": ticket_type.capacity or "",
        "position": ticket_type.position,
    }


def test_a_ticket_types_limit_raised_on_the_event_page_is_offered_at_once(
    client_as_staff, event, child_waiting, django_capture_on_commit_callbacks
):
    child, waiting = child_waiting
    url = reverse("admin:bookings_event_change", args=[event.pk])
    page = client_as_staff.get(url)
    data = {
        "title": event.title,
        "description": "",
        "venue": "",
        "starts_at_0": timezone.localtime(event.starts_at).strftime("%Y-%m-%d"),
        "starts_at_1": timezone.localtime(event.starts_at).strftime("%H:%M:%S"),
        "ends_at_0": timezone.localtime(event.ends_at).strftime("%Y-%m-%d"),
        "ends_at_1": timezone.localtime(event.ends_at).strftime("%H:%M:%S"),
        "capacity": event.capacity,
    }
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        forms = formset.initial_forms if formset.model is TicketType else []
        data.update(
            {f"{formset.prefix}-TOTAL_FORMS": len(forms), f"{formset.prefix}-INITIAL_FORMS": len(forms)}
        )
        for i, form in enumerate(forms):
            ticket_type = form.instance
            fields = ticket_type_fields(ticket_type) | ({"capacity": 3} if ticket_type == child else {})
            data.update({f"{formset.prefix}-{i}-{name}": value for name, value in fields.items()})
            data.update({f"{formset.prefix}-{i}-id": ticket_type.pk, f"{formset.prefix}-{i}-event": event.pk})

    with django_capture_on_commit_callbacks(execute=True):
        response = client_as_staff.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    child.refresh_from_db()
    waiting.refresh_from_db()
    assert child.capacity == 3
    assert waiting.status == WaitingListEntry.Status.OFFERED


def test_a_ticket_types_limit_raised_on_its_own_page_is_offered_at_once(
    client_as_staff, event, child_waiting, django_capture_on_commit_callbacks
):
    child, waiting = child_waiting
    url = reverse("admin:bookings_tickettype_change", args=[child.pk])

    with django_capture_on_commit_callbacks(execute=True):
        response = client_as_staff.post(url, ticket_type_fields(child) | {"event": event.pk, "capacity": 3})

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    waiting.refresh_from_db()
    assert waiting.status == WaitingListEntry.Status.OFFERED
