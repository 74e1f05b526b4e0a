"""The seat counters on the event row (`bookings.capacity`): every path that takes or frees a place
keeps them equal to what the rows say, the database refuses more than the capacity, and
`manage.py seats_recount` finds and repairs a counter that went wrong."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from bookings import capacity, selectors, services
from bookings.models import Booking, Event, WaitingListEntry
from tests.factories import EventFactory, TicketTypeFactory, UserFactory, WaitingListEntryFactory
from tests.helpers import in_days, paid_booking, rules

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run a service as a request would: its after-commit work (offers, emails, refunds) too."""

    def run(service, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(*args, **kwargs)

    return run


def counters(event: Event) -> tuple[int, int]:
    event.refresh_from_db()
    return event.seats_taken, event.seats_held


def assert_counters_agree_with_the_rows() -> None:
    assert capacity.seats_recount() == []


def book(event, ticket_types, name, *, offer=None) -> Booking:
    return services.booking_create(
        request=services.BookingRequest(
            event=event,
            booker=services.Booker(name=name, email=f"{name.lower()}@example.com"),
            tickets=[services.TicketRequest(ticket_type=t, attendee_name=name) for t in ticket_types],
            idempotency_key=f"key-{name}",
            waiting_offer=offer,
        )
    )


@pytest.fixture
def event(organiser):
    event = EventFactory(organiser=organiser, capacity=3, title="Pottery")
    rules(event, waiting_list_offer_hours=6)
    return event


@pytest.fixture
def free(event):
    return TicketTypeFactory(event=event, price=0, name="Free")


@pytest.fixture
def paid(event):
    return TicketTypeFactory(event=event, price=1500, name="Paid")


def offered(entry: WaitingListEntry) -> bool:
    entry.refresh_from_db()
    return entry.status == WaitingListEntry.Status.OFFERED


def test_a_booking_takes_its_seats_and_a_pending_one_gives_them_back_when_its_checkout_expires(
    event, free, paid, run
):
    run(book, event, [free, free], "Ann")
    assert counters(event) == (2, 0)

    pending = run(book, event, [paid], "Ben")
    assert pending.status == Booking.Status.PENDING and counters(event) == (3, 0)  # held while paying
    assert_counters_agree_with_the_rows()

    expired = {"id": "cs_1", "metadata": {"booking": pending.reference}}
    run(services.booking_checkout_event, "checkout.session.expired", expired)
    run(services.booking_checkout_event, "checkout.session.expired", expired)  # Stripe retries

    assert counters(event) == (2, 0)
    assert_counters_agree_with_the_rows()


def test_cancelling_gives_the_seats_back_and_an_offer_holds_them_for_the_next_person(
    event, paid, run, mailoutbox
):
    bookings = [paid_booking(paid), paid_booking(paid, seats=2)]
    waiting = WaitingListEntryFactory(event=event, quantity=2)
    assert counters(event) == (3, 0)

    run(services.booking_cancel, booking=bookings[1])

    assert offered(waiting)
    assert counters(event) == (1, 2)  # two freed, held for the offer
    assert selectors.seats_left(event) == 0
    assert_counters_agree_with_the_rows()


def test_a_booked_offer_turns_its_held_places_into_taken_ones(event, free, paid, run):
    booking = paid_booking(paid, seats=3)
    waiting = WaitingListEntryFactory(event=event, quantity=2)
    run(services.booking_cancel, booking=booking)
    assert offered(waiting) and counters(event) == (0, 2)

    run(book, event, [free], "Wes", offer=waiting)  # one of the two held places

    assert counters(event) == (1, 0)  # the other goes back to everyone
    assert selectors.seats_left(event) == 2
    assert_counters_agree_with_the_rows()


def test_leaving_with_an_offer_passes_its_places_to_the_next_person(event, paid, run):
    booking = paid_booking(paid, seats=3)
    first = WaitingListEntryFactory(event=event, quantity=2)
    second = WaitingListEntryFactory(event=event, quantity=3)
    run(services.booking_cancel, booking=booking)
    assert offered(first) and not offered(second)

    run(services.waiting_list_leave, entry=first)

    assert offered(second)
    assert counters(event) == (0, 3)
    assert_counters_agree_with_the_rows()


def test_an_offer_past_its_time_gives_its_places_back_under_the_lock_before_a_booking_counts(
    event, free, paid, run
):
    booking = paid_booking(paid, seats=1)
    waiting = WaitingListEntryFactory(event=event, quantity=1)
    paid_booking(paid)
    run(services.booking_cancel, booking=booking)
    assert offered(waiting) and counters(event) == (1, 1)
    WaitingListEntry.objects.filter(pk=waiting.pk).update(
        offer_expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert selectors.seats_left(event) == 2  # an expired hold holds nothing, though it is still counted

    run(book, event, [free, free], "Sam")  # needs both: the expired offer's place too

    waiting.refresh_from_db()
    assert waiting.status == WaitingListEntry.Status.EXPIRED
    assert counters(event) == (3, 0)
    assert_counters_agree_with_the_rows()


def test_the_periodic_task_expires_offers_past_their_time_and_offers_their_places_on(event, paid, run):
    booking = paid_booking(paid, seats=3)
    first = WaitingListEntryFactory(event=event, quantity=1)
    second = WaitingListEntryFactory(event=event, quantity=3)
    run(services.booking_cancel, booking=booking)
    WaitingListEntry.objects.filter(pk=first.pk).update(
        offer_expires_at=timezone.now() - timedelta(minutes=1)
    )

    assert run(services.waiting_list_offer_due) == 1

    assert offered(second) and counters(event) == (0, 3)
    assert_counters_agree_with_the_rows()


def test_a_move_frees_the_seats_on_one_event_and_takes_them_on_the_other(event, paid, organiser, run):
    other = EventFactory(organiser=organiser, capacity=5, starts_at=in_days(9))
    rules(other)
    there = TicketTypeFactory(event=other, price=1500)
    within = TicketTypeFactory(event=event, price=1500, name="Evening")
    rules_ = event.rules
    booking = paid_booking(paid, seats=2)

    run(services.transfer_create, booking=booking, ticket_type=there, idempotency_key="away")

    assert counters(event) == (0, 0) and counters(other) == (2, 0)
    assert_counters_agree_with_the_rows()

    back = paid_booking(paid, seats=1)
    rules_.transfer_scope = "same_event"
    rules_.save()
    run(services.transfer_create, booking=back, ticket_type=within, idempotency_key="within")

    assert counters(event) == (1, 0)  # the same seat, another ticket type
    assert_counters_agree_with_the_rows()


def test_the_organisers_cancel_frees_every_seat(event, free, paid, run):
    paid_booking(paid, seats=2)
    run(book, event, [paid], "Pending")

    run(services.event_cancel, event=event)

    assert counters(event) == (0, 0)
    assert_counters_agree_with_the_rows()


def test_deleting_an_account_with_an_offer_gives_its_places_back(event, paid, run):
    from accounts import services as accounts
    from tests.factories import PASSWORD

    user = UserFactory()
    booking = paid_booking(paid, seats=3)
    waiting = WaitingListEntryFactory(event=event, quantity=2, user=user, email=user.email)
    run(services.booking_cancel, booking=booking)
    assert offered(waiting) and counters(event) == (0, 2)

    run(accounts.account_delete, user=user, password=PASSWORD)

    assert counters(event) == (0, 0)
    assert_counters_agree_with_the_rows()


def test_the_admin_deleting_an_offered_place_gives_its_places_back(event, paid, run, client_as_staff):
    booking = paid_booking(paid, seats=3)
    waiting = WaitingListEntryFactory(event=event, quantity=2)
    run(services.booking_cancel, booking=booking)
    assert counters(event) == (0, 2)

    response = client_as_staff.post(
        reverse("admin:bookings_waitinglistentry_delete", args=[waiting.pk]), {"post": "yes"}
    )

    assert response.status_code == 302 and not WaitingListEntry.objects.filter(pk=waiting.pk).exists()
    assert counters(event) == (0, 0)
    assert_counters_agree_with_the_rows()


def test_the_database_refuses_more_places_than_the_capacity(event, paid):
    paid_booking(paid, seats=2)
    WaitingListEntryFactory(event=event, quantity=1, status=WaitingListEntry.Status.OFFERED)

    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(seats_taken=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(capacity=2)


def test_saving_an_event_read_before_a_booking_keeps_the_booking_counted(event, free, run):
    stale = Event.objects.get(pk=event.pk)  # e.g. the admin's form, opened a minute ago
    run(book, event, [free], "Ann")

    stale.title = "Pottery for beginners"
    stale.save()

    assert counters(event) == (1, 0)
    assert Event.objects.get(pk=event.pk).title == "Pottery for beginners"


def test_a_corrupted_counter_is_reported_and_repaired_by_the_recount_command(event, paid, organiser):
    paid_booking(paid, seats=2)
    fine = EventFactory(organiser=organiser)
    Event.objects.filter(pk=event.pk).update(seats_taken=0, seats_held=1)  # a bug, a hand edit
    out = StringIO()

    call_command("seats_recount", stdout=out)

    assert f"event {event.pk} " in out.getvalue() and f"event {fine.pk} " not in out.getvalue()
    assert "taken 0 (counted 2), held 1 (counted 0)" in out.getvalue()
    assert counters(event) == (0, 1)  # only reported

    call_command("seats_recount", "--fix", stdout=out)

    assert counters(event) == (2, 0)
    out = StringIO()
    call_command("seats_recount", stdout=out)
    assert "agree" in out.getvalue()


def test_the_recount_leaves_an_event_holding_more_than_its_capacity_to_the_organiser(event, paid):
    paid_booking(paid, seats=3)
    Event.objects.filter(pk=event.pk).update(seats_taken=0)
    Event.objects.filter(pk=event.pk).update(capacity=2)  # lowered past the counter gone wrong
    out = StringIO()

    call_command("seats_recount", "--fix", stdout=out)

    assert "over capacity: not changed" in out.getvalue()
    assert counters(event) == (0, 0)
