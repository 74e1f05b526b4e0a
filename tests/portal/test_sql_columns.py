"""portal.sql: hand-written SELECTs that still give back the models the ORM would."""

from __future__ import annotations

import pytest

from bookings.models import Attendee, Booking, Event
from portal.sql import Columns, fetch, split
from tests.factories import AttendeeFactory, BookingFactory

BOOKING = Columns(Booking, "b", "reference", "id", "event", "total", "confirmation_sent_at")
EVENT = Columns(Event, "e", "id", "title", "starts_at")
ATTENDEE = Columns(Attendee, "a", "id", "name", "is_child")


def test_columns_must_include_the_primary_key():
    with pytest.raises(ValueError, match="primary key"):
        Columns(Booking, "b", "reference")


@pytest.mark.django_db
def test_a_row_comes_back_as_the_same_models_the_orm_loads():
    attendee = AttendeeFactory(is_child=True)
    booking = attendee.booking

    (row,) = fetch(
        f"SELECT {BOOKING}, {EVENT}, {ATTENDEE} FROM {BOOKING.table}"
        f" JOIN {EVENT.table} ON e.id = b.event_id JOIN {ATTENDEE.table} ON a.booking_id = b.id"
        " WHERE b.id = %s",
        [booking.pk],
    )
    loaded_booking, loaded_event, loaded_attendee = split(row, BOOKING, EVENT, ATTENDEE)

    orm = Booking.objects.select_related("event").get(pk=booking.pk)
    assert (loaded_booking.pk, loaded_booking.reference, loaded_booking.total) == (
        orm.pk,
        orm.reference,
        orm.total,
    )
    assert loaded_booking.event_id == orm.event_id and loaded_booking.confirmation_sent_at is None
    assert loaded_event.starts_at == orm.event.starts_at and loaded_event.starts_at.tzinfo is not None
    assert loaded_event.title == orm.event.title
    assert loaded_attendee.is_child is True and loaded_attendee.name == attendee.name
    assert not loaded_booking._state.adding and loaded_booking._state.db == "default"
    # Fields left out are deferred, as with .only(): reading one loads it, nothing is made up.
    assert loaded_booking.get_deferred_fields() >= {"booker_email", "status"}
    assert loaded_booking.booker_email == orm.booker_email


@pytest.mark.django_db
def test_an_outer_join_that_found_nothing_gives_none():
    booking = BookingFactory()

    (row,) = fetch(
        f"SELECT {BOOKING}, {ATTENDEE} FROM {BOOKING.table}"
        f" LEFT JOIN {ATTENDEE.table} ON a.booking_id = b.id WHERE b.id = %s",
        [booking.pk],
    )

    loaded_booking, no_attendee = split(row, BOOKING, ATTENDEE)
    assert loaded_booking.pk == booking.pk and no_attendee is None
