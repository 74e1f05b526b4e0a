"""The booking page's reads: the right event (scoped by the organiser's slug), its ticket types in
order, and the questions the organiser set."""

from __future__ import annotations

import uuid

import pytest
from django.http import Http404

from bookings import selectors
from tests.factories import BookingFormFieldFactory, EventFactory, OrganiserFactory, TicketTypeFactory


@pytest.mark.django_db
def test_the_event_comes_with_its_organiser_and_every_field(organiser, django_assert_num_queries):
    event = EventFactory(organiser=organiser, title="Morning Flow", venue="Studio 2", capacity=12)

    with django_assert_num_queries(1):
        found = selectors.event_get_public(org_slug=organiser.slug, code=event.code)
        assert (found.pk, found.title, found.venue, found.capacity) == (
            event.pk,
            "Morning Flow",
            "Studio 2",
            12,
        )
        assert found.starts_at == event.starts_at and found.organiser.name == organiser.name
    assert found.get_deferred_fields() == set()


@pytest.mark.django_db
def test_an_unknown_code_or_another_organisers_slug_is_not_found(organiser):
    event = EventFactory(organiser=organiser)
    other = OrganiserFactory()

    with pytest.raises(Http404):
        selectors.event_get_public(org_slug=organiser.slug, code=uuid.uuid4())
    with pytest.raises(Http404):
        selectors.event_get_public(org_slug=other.slug, code=event.code)


@pytest.mark.django_db
def test_ticket_types_come_in_their_order_each_knowing_its_event(organiser, django_assert_num_queries):
    event = EventFactory(organiser=organiser)
    later = TicketTypeFactory(event=event, organiser=organiser, name="Child", position=2)
    first = TicketTypeFactory(event=event, organiser=organiser, name="Adult", position=1)
    TicketTypeFactory(event=EventFactory(organiser=organiser), organiser=organiser, name="Elsewhere")

    with django_assert_num_queries(1):
        ticket_types = selectors.ticket_type_list_for_event(event=event)
        assert [t.pk for t in ticket_types] == [first.pk, later.pk]
        assert all(t.event is event for t in ticket_types)


@pytest.mark.django_db
def test_an_events_own_questions_replace_the_organisers_defaults(organiser):
    event = EventFactory(organiser=organiser)
    plain = EventFactory(organiser=organiser)
    default = BookingFormFieldFactory(organiser=organiser, label="Injuries?")
    BookingFormFieldFactory(organiser=OrganiserFactory(), label="Another organiser's question")
    second = BookingFormFieldFactory(organiser=organiser, event=event, label="Mat size?", position=2)
    first = BookingFormFieldFactory(organiser=organiser, event=event, label="Experience?", position=1)

    assert selectors.booking_form_field_list_for_event(event=event) == [first, second]
    assert selectors.booking_form_field_list_for_event(event=plain) == [default]
    assert selectors.booking_form_field_list_for_event(event=EventFactory()) == []
