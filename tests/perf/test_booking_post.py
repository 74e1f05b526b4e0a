"""The booking POST is the request a popular class's release sends by the hundred (the booking
under contention benchmark): what it asks of the database, held in place."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.base import CreateError
from django.db import connection
from django.utils.crypto import get_random_string

from bookings import services
from bookings.exceptions import EventFull
from bookings.models import Booking
from portal.sessions import SessionStore
from tests.bookings.test_public_booking import book_url, details
from tests.factories import EventFactory, TicketTypeFactory

pytestmark = pytest.mark.django_db

# The page (event and organiser, ticket types, form questions), one transaction (lock timeout,
# event lock, the idempotency key, the seat counter, booking, attendees) and a new session for a
# booker without an account.
BOOKING_POST_QUERIES = 14
# Tests send the confirmation in-process on commit (a worker's job in production).
# BEGIN, lock, everything the email shows, the sent stamp, COMMIT (the lock goes with it).
CONFIRMATION_QUERIES = 5


@pytest.fixture
def event(organiser):
    event = EventFactory(organiser=organiser, capacity=50)
    TicketTypeFactory(event=event, name="Adult", price=0)
    return event


@pytest.mark.django_db(transaction=True)  # outside a test's transaction, to see the view's own
def test_a_free_booking_through_the_page_costs_a_fixed_number_of_queries_in_one_transaction(
    client, event, django_assert_max_num_queries
):
    data = details(event, attendees=[("Ada", False), ("Bo", False)], quantities={"Adult": 2})

    with django_assert_max_num_queries(BOOKING_POST_QUERIES + CONFIRMATION_QUERIES) as captured:
        response = client.post(book_url(event), data)

    assert response.status_code == 302 and Booking.objects.filter(event=event).count() == 1
    statements = [query["sql"] for query in captured.captured_queries]
    assert not [sql for sql in statements if "SAVEPOINT" in sql]
    # The places are the event row's counters: nothing counts the event's bookings.
    assert not [sql for sql in statements if "COUNT(" in sql.upper()]
    assert not [sql for sql in statements if sql.startswith("SELECT 1") and "django_session" in sql]


def _book(event, name: str, **extra) -> Booking:
    return services.booking_create(
        request=services.BookingRequest(
            event=event,
            booker=services.Booker(name=name, email=f"{name.lower()}@example.com"),
            tickets=[services.TicketRequest(ticket_type=event.ticket_types.get(), attendee_name=name)],
            idempotency_key=name,
            **extra,
        )
    )


def test_places_the_caller_saw_do_not_decide_the_count_under_the_lock_does(event):
    event.capacity = 1
    event.save()
    _book(event, "First")

    with pytest.raises(EventFull):
        _book(event, "Late")  # the event as read before the first booking took the place
    assert Booking.objects.filter(event=event).count() == 1


def test_a_new_session_whose_random_key_is_taken_gets_another(monkeypatch):
    taken = SessionStore()
    taken.create()
    fresh = get_random_string(32)
    keys = iter([taken.session_key, fresh])
    monkeypatch.setattr("portal.sessions.get_random_string", lambda *args: next(keys))

    session = SessionStore()
    session["booking"] = "ABC123"
    session.create()

    assert session.session_key == fresh
    assert SessionStore(session_key=fresh).load() == {"booking": "ABC123"}
    with pytest.raises(CreateError):
        duplicate = SessionStore(session_key=taken.session_key)
        duplicate.save(must_create=True)


def test_a_new_session_is_written_once_to_the_database_and_once_to_the_cache(
    monkeypatch, django_assert_num_queries
):
    from django.conf import settings
    from django.core.cache import caches

    cache = caches[settings.SESSION_CACHE_ALIAS]
    writes = []
    real_set = cache.set
    monkeypatch.setattr(
        cache, "set", lambda *args, **kwargs: writes.append(args[0]) or real_set(*args, **kwargs)
    )
    session = SessionStore()
    session["booking"] = "ABC123"

    with django_assert_num_queries(3):  # the INSERT, in its own transaction (here a savepoint)
        session.save()

    assert writes == [session.cache_key]
    assert SessionStore(session_key=session.session_key).load() == {"booking": "ABC123"}
    cache.delete(session.cache_key)
    assert SessionStore(session_key=session.session_key).load() == {"booking": "ABC123"}  # from the database


@pytest.mark.django_db(transaction=True)
def test_a_booking_post_asks_the_same_of_the_database_however_many_bookings_the_event_has(client, organiser):
    from django.test.utils import CaptureQueriesContext

    from tests.factories import AttendeeFactory

    empty = EventFactory(organiser=organiser, capacity=500)
    TicketTypeFactory(event=empty, name="Adult", price=0)
    busy = EventFactory(organiser=organiser, capacity=500)
    adult = TicketTypeFactory(event=busy, name="Adult", price=0)
    AttendeeFactory.create_batch(60, booking__event=busy, ticket_type=adult)
    statements = {}

    for event in (empty, busy):
        data = details(event, attendees=[("Ada", False)], quantities={"Adult": 1}, key=f"key-{event.pk}")
        with CaptureQueriesContext(connection) as captured:
            assert client.post(book_url(event), data).status_code == 302
        statements[event] = [query["sql"] for query in captured.captured_queries]

    assert len(statements[empty]) == len(statements[busy])
    # The places come from the event row's counter: nothing counts the event's tickets.
    assert not [sql for sql in statements[busy] if "COUNT(" in sql.upper()]
