"""portal.sql: a queryset compiled once still gives back, with each call's values, the models the
ORM would."""

from __future__ import annotations

import uuid
from unittest import mock

import pytest

from bookings.models import Attendee, Booking, Event
from portal.models import Organiser
from portal.sql import Prepared
from tests.factories import AttendeeFactory, BookingFactory, EventFactory, OrganiserFactory

pytestmark = pytest.mark.django_db


def attendees_of(booking: int):
    return Attendee.objects.filter(booking_id=booking).order_by("pk")


def test_each_call_runs_the_compiled_sql_with_its_own_values_and_gives_what_the_orm_gives():
    first = AttendeeFactory(is_child=True, name="Kit").booking
    second = AttendeeFactory(is_child=False, name="Lou").booking
    prepared = Prepared(attendees_of, fields=("id", "name", "is_child"), booking=-1)

    for booking, name, is_child in [(first, "Kit", True), (second, "Lou", False)]:
        ((loaded,),) = prepared.fetch(booking=booking.pk)
        assert (loaded.name, loaded.is_child) == (name, is_child)
        assert loaded.is_child is is_child  # a bool on every database, as the ORM gives it
        assert not loaded._state.adding and loaded._state.db == "default"
        # Fields left out are deferred, as with .only(): reading one loads it, nothing is made up.
        assert loaded.get_deferred_fields() >= {"price", "booking_id"}
        assert loaded.price == Attendee.objects.get(pk=loaded.pk).price


def test_every_field_comes_back_as_the_orm_loads_it():
    event = EventFactory(title="Morning Flow", capacity=12)
    prepared = Prepared(lambda code: Event.objects.filter(code=code), code=uuid.UUID(int=1))

    ((loaded,),) = prepared.fetch(code=event.code)

    orm = Event.objects.get(pk=event.pk)
    assert loaded.get_deferred_fields() == set()
    for field in Event._meta.concrete_fields:
        assert getattr(loaded, field.attname) == getattr(orm, field.attname), field.name
    assert loaded.starts_at.tzinfo is not None and loaded.code == event.code


def test_parts_read_related_rows_in_the_same_statement(django_assert_num_queries):
    attendee = AttendeeFactory(name="Kit")
    BookingFactory(organiser=attendee.organiser)  # a booking without attendees: an outer join
    prepared = Prepared(
        lambda organiser: Booking.objects.filter(organiser=organiser).order_by("pk"),
        fields=("id", "reference"),
        parts={
            "organiser": (Organiser, "organiser", ("id", "name", "created_at")),
            "attendee": (Attendee, "attendees", ("id", "name", "is_child")),
        },
        organiser=-1,
    )

    with django_assert_num_queries(1):
        (booking, organiser, kit), (other, same_organiser, nobody) = prepared.fetch(
            organiser=attendee.organiser_id
        )
        assert booking.reference == attendee.booking.reference
        assert organiser.name == attendee.organiser.name and organiser.created_at.tzinfo is not None
        assert (kit.name, kit.is_child) == ("Kit", False)
        assert other.pk != booking.pk and same_organiser.pk == organiser.pk and nobody is None


def test_the_queryset_is_compiled_once():
    booking = AttendeeFactory().booking
    build = mock.Mock(side_effect=attendees_of)
    prepared = Prepared(build, booking=-1)

    for _ in range(3):
        assert len(prepared.fetch(booking=booking.pk)) == 1

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

    assert [b.organiser_id for (b,) in prepared.fetch(organiser=mine.pk, key="k")] == [mine.pk]
    assert prepared.fetch(organiser=mine.pk, key="other") == []


def test_a_placeholder_the_queryset_does_not_use_is_refused():
    prepared = Prepared(lambda booking, unused: attendees_of(booking), booking=-1, unused=-2)

    with pytest.raises(ValueError, match="each placeholder"):
        prepared.fetch(booking=1, unused=2)
