"""portal.sql: a queryset compiled once still gives back, with each call's values, the models the
ORM would."""

from __future__ import annotations

from unittest import mock

import pytest

from bookings.models import Attendee, Booking
from portal.sql import Prepared
from tests.factories import AttendeeFactory, BookingFactory, OrganiserFactory

pytestmark = pytest.mark.django_db


def attendees_of(booking: int):
    return Attendee.objects.filter(booking_id=booking).only("id", "name", "is_child").order_by("pk")


def test_each_call_runs_the_compiled_sql_with_its_own_values_and_the_orms_conversions():
    first = AttendeeFactory(is_child=True, name="Kit").booking
    second = AttendeeFactory(is_child=False, name="Lou").booking
    prepared = Prepared(attendees_of, booking=-1)

    for booking, name, is_child in [(first, "Kit", True), (second, "Lou", False)]:
        (loaded,) = prepared.raw(booking=booking.pk)
        assert (loaded.name, loaded.is_child) == (name, is_child)
        assert loaded.is_child is is_child  # a bool on every database, as the ORM gives it
        assert not loaded._state.adding and loaded._state.db == "default"
        # Fields left out are deferred, as with .only(): reading one loads it, nothing is made up.
        assert loaded.get_deferred_fields() >= {"price", "booking_id"}
        assert loaded.price == Attendee.objects.get(pk=loaded.pk).price


def test_the_queryset_is_compiled_once():
    booking = AttendeeFactory().booking
    build = mock.Mock(side_effect=attendees_of)
    prepared = Prepared(build, booking=-1)

    for _ in range(3):
        assert len(list(prepared.raw(booking=booking.pk))) == 1

    build.assert_called_once_with(booking=-1)


def test_scoping_and_constants_come_from_the_queryset():
    mine, theirs = OrganiserFactory(), OrganiserFactory()
    BookingFactory(organiser=mine, idempotency_key="k", status=Booking.Status.CONFIRMED)
    BookingFactory(organiser=theirs, idempotency_key="k", status=Booking.Status.CONFIRMED)
    prepared = Prepared(
        lambda organiser, key: Booking.objects.for_organiser(organiser).filter(
            idempotency_key=key, status=Booking.Status.CONFIRMED
        ),
        organiser=-1,
        key="\x00key\x00",
    )

    assert [b.organiser_id for b in prepared.raw(organiser=mine.pk, key="k")] == [mine.pk]
    assert list(prepared.raw(organiser=mine.pk, key="other")) == []


def test_a_placeholder_the_queryset_does_not_use_is_refused():
    prepared = Prepared(lambda booking, unused: attendees_of(booking), booking=-1, unused=-2)

    with pytest.raises(ValueError, match="each placeholder"):
        list(prepared.raw(booking=1, unused=2))
