"""The organiser's public page says when an event is full (and offers its waiting list) and how many
places are left when few remain, instead of a plain Book on everything."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import AttendeeFactory, EventFactory, TicketTypeFactory


def page(client, organiser) -> str:
    return client.get(reverse("organiser_page", args=[organiser.slug])).content.decode()


def event_with(organiser, *, capacity, booked, title):
    event = EventFactory(organiser=organiser, capacity=capacity, title=title)
    ticket = TicketTypeFactory(event=event)
    for _ in range(booked):
        AttendeeFactory(booking__event=event, booking__organiser=organiser, ticket_type=ticket)
    event.refresh_from_db()
    return event


def card(html: str, title: str) -> str:
    start = html.index(f">{title}<")
    return html[start : html.index("</article>", start)]


@pytest.mark.django_db
def test_a_full_event_offers_its_waiting_list_not_book(client, organiser):
    full = event_with(organiser, capacity=2, booked=2, title="Full Moon")

    shown = card(page(client, organiser), "Full Moon")

    assert "Full" in shown and "Join the waiting list" in shown
    assert ">Book<" not in shown
    assert reverse("waiting_list_join", args=[organiser.slug, full.code]) in shown


@pytest.mark.django_db
def test_few_places_left_are_counted_and_many_are_not(client, organiser):
    event_with(organiser, capacity=10, booked=7, title="Nearly Full")
    event_with(organiser, capacity=30, booked=2, title="Plenty")

    html = page(client, organiser)

    assert "3 places left" in card(html, "Nearly Full")
    assert "places left" not in card(html, "Plenty")
    assert ">Book<" in card(html, "Plenty").replace('<span class="visually-hidden"> Plenty</span>', "")


@pytest.mark.django_db
def test_the_page_asks_a_fixed_number_of_queries_however_many_events(
    client, organiser, django_assert_max_num_queries
):
    for n in range(6):
        event_with(organiser, capacity=3, booked=n % 4, title=f"Class {n}")

    with django_assert_max_num_queries(12):
        page(client, organiser)
