"""The organiser's booking list filters by when the event is and by status."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import BookingFactory, EventFactory

LIST = reverse("admin:bookings_booking_changelist")


@pytest.fixture
def bookings(organiser, other_organiser):
    now = timezone.now()
    soon = BookingFactory(
        organiser=organiser, event=EventFactory(organiser=organiser, starts_at=now + timedelta(days=2))
    )
    later = BookingFactory(
        organiser=organiser, event=EventFactory(organiser=organiser, starts_at=now + timedelta(days=20))
    )
    past = BookingFactory(
        organiser=organiser, event=EventFactory(organiser=organiser, starts_at=now - timedelta(days=3))
    )
    elsewhere = BookingFactory(
        organiser=other_organiser,
        event=EventFactory(organiser=other_organiser, starts_at=now + timedelta(days=2)),
    )
    return soon, later, past, elsewhere


def shown(client, **query):
    response = client.get(LIST, query)
    assert response.status_code == 200
    return {booking.reference for booking in response.context["cl"].result_list}


@pytest.mark.django_db
def test_bookings_filter_by_event_date(client_as_staff, bookings):
    soon, later, past, elsewhere = bookings

    assert shown(client_as_staff, event_date="next7") == {soon.reference}
    assert shown(client_as_staff, event_date="next30") == {soon.reference, later.reference}
    assert shown(client_as_staff, event_date="upcoming") == {soon.reference, later.reference}
    assert shown(client_as_staff, event_date="past") == {past.reference}


@pytest.mark.django_db
def test_bookings_filter_by_status_and_date_together(client_as_staff, bookings):
    soon, later, past, _ = bookings
    later.status = later.Status.CANCELLED
    later.save()

    assert shown(client_as_staff, event_date="upcoming", status__exact="confirmed") == {soon.reference}
