from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings import exceptions, services
from bookings.models import AccountCredit, Booking, BookingRules, Event, Refund
from portal.exceptions import PaymentError
from portal.payments import OfflineGateway
from tests.factories import AttendeeFactory, BookingFactory, BookingRulesFactory, EventFactory


@pytest.fixture
def event(organiser):
    BookingRulesFactory(
        organiser=organiser,
        event=None,
        refund_method=BookingRules.RefundMethod.ORIGINAL,
        cancellation_fee=200,
    )
    return EventFactory(organiser=organiser, title="Sunrise Flow")


def paid_booking(event, **kwargs):
    booking = BookingFactory(event=event, total=1500, payment_reference="pay_123", **kwargs)
    AttendeeFactory(booking=booking)
    return booking


@pytest.fixture
def refunds():
    with mock.patch.object(OfflineGateway, "refund", autospec=True, return_value="re_1") as refund:
        yield refund


@pytest.mark.django_db
def test_cancelling_an_event_cancels_refunds_and_emails_every_confirmed_booking(
    event, refunds, mailoutbox, django_capture_on_commit_callbacks
):
    first, second = paid_booking(event), paid_booking(event)
    already = paid_booking(event, status=Booking.Status.CANCELLED, cancelled_by=Booking.CancelledBy.BOOKER)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.event_cancel(event=event)

    event.refresh_from_db()
    assert event.status == Event.Status.CANCELLED
    assert event.cancelled_at is not None
    for booking in [first, second]:
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CANCELLED
        assert booking.cancelled_by == Booking.CancelledBy.ORGANISER
        assert booking.cancellation_sent_at is not None
        refund = booking.refunds.get()
        assert (refund.amount, refund.fee_kept, refund.status) == (1500, 0, Refund.Status.SUCCEEDED)
        # The booker did nothing wrong: no cancellation fee is kept.
        assert refund.gateway_reference == "re_1"
    already.refresh_from_db()
    assert already.cancelled_by == Booking.CancelledBy.BOOKER  # their own cancellation stands
    assert not already.refunds.exists()
    assert len(callbacks) == 2  # one task per booking
    assert refunds.call_count == 2
    assert {call.kwargs["idempotency_key"] for call in refunds.call_args_list} == {
        f"booking-{first.pk}-refund-event_cancelled",
        f"booking-{second.pk}-refund-event_cancelled",
    }
    assert sorted(m.to[0] for m in mailoutbox) == sorted([first.booker_email, second.booker_email])
    message = mailoutbox[0]
    assert "Cancelled: Sunrise Flow" in message.subject
    assert "£15.00" in message.body
    assert "original payment" in message.body
    assert message.reply_to == [event.organiser.contact_email]
    assert message.alternatives[0][1] == "text/html"


@pytest.mark.django_db
def test_cancelling_twice_refunds_and_emails_once(
    event, refunds, mailoutbox, django_capture_on_commit_callbacks
):
    paid_booking(event)

    with django_capture_on_commit_callbacks(execute=True):
        services.event_cancel(event=event)
    with django_capture_on_commit_callbacks(execute=True) as second_run:
        queued = services.event_cancel(event=event)

    assert queued == [] and second_run == []
    assert refunds.call_count == 1
    assert len(mailoutbox) == 1
    assert Refund.objects.count() == 1


@pytest.mark.django_db
def test_the_settling_task_running_twice_refunds_and_emails_once(
    event, refunds, mailoutbox, django_capture_on_commit_callbacks
):
    booking = paid_booking(event)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.event_cancel(event=event)

    for callback in callbacks * 2:  # at-least-once delivery: the same task arrives twice
        callback()

    assert refunds.call_count == 1
    assert len(mailoutbox) == 1
    assert booking.refunds.get().status == Refund.Status.SUCCEEDED


@pytest.mark.django_db
def test_a_failed_refund_stays_pending_without_email_and_cancelling_again_retries_it(
    event, mailoutbox, django_capture_on_commit_callbacks
):
    booking = paid_booking(event)
    with mock.patch.object(OfflineGateway, "refund", side_effect=PaymentError("Card network down")):
        with django_capture_on_commit_callbacks(execute=True):
            services.event_cancel(event=event)

    refund = booking.refunds.get()
    assert refund.status == Refund.Status.PENDING
    assert refund.last_error == "Card network down"
    assert mailoutbox == []  # the email waits until the money has gone back

    with django_capture_on_commit_callbacks(execute=True):
        assert services.event_cancel(event=event) == [booking.pk]

    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_rules_that_prefer_credit_only_offer_it_the_card_refund_stays_the_default(
    organiser, refunds, mailoutbox, django_capture_on_commit_callbacks
):
    """Bookers are entitled to their money back when the organiser cancels: credit only if they
    choose it (tests/bookings/test_organiser_cancel.py follows the choice)."""
    event = EventFactory(organiser=organiser)
    BookingRulesFactory(organiser=organiser, event=event, refund_method=BookingRules.RefundMethod.CREDIT)
    booking = paid_booking(event)

    with django_capture_on_commit_callbacks(execute=True):
        services.event_cancel(event=event)

    refund = booking.refunds.get()
    assert (refund.method, refund.amount, refund.status) == ("original", 1500, Refund.Status.PENDING)
    assert not AccountCredit.objects.exists()
    assert "credit" in mailoutbox[0].body and "original payment" in mailoutbox[0].body


@pytest.mark.django_db
def test_rules_that_give_no_refund_still_refund_in_full_when_the_organiser_cancels(
    organiser, refunds, mailoutbox, django_capture_on_commit_callbacks
):
    event = EventFactory(organiser=organiser)
    BookingRulesFactory(organiser=organiser, event=event, refund_method=BookingRules.RefundMethod.NONE)
    booking = paid_booking(event)

    with django_capture_on_commit_callbacks(execute=True):
        services.event_cancel(event=event)

    refund = booking.refunds.get()
    assert (refund.method, refund.amount, refund.status) == ("original", 1500, Refund.Status.SUCCEEDED)
    assert refunds.called
    assert "does not give refunds" not in mailoutbox[0].body


@pytest.mark.django_db
def test_bookings_awaiting_payment_are_cancelled_without_refund_or_email(
    event, refunds, mailoutbox, django_capture_on_commit_callbacks
):
    pending = BookingFactory(event=event, status=Booking.Status.PENDING, payment_reference="cs_1")

    with django_capture_on_commit_callbacks(execute=True):
        services.event_cancel(event=event)

    pending.refresh_from_db()
    assert pending.status == Booking.Status.CANCELLED
    assert not pending.refunds.exists()
    assert mailoutbox == [] and not refunds.called


@pytest.mark.django_db
def test_an_event_that_has_ended_cannot_be_cancelled(organiser):
    past = EventFactory(organiser=organiser, starts_at=timezone.now() - timedelta(days=2))

    with pytest.raises(exceptions.OrganiserError, match="already ended"):
        services.event_cancel(event=past)

    past.refresh_from_db()
    assert past.status == Event.Status.SCHEDULED


@pytest.mark.django_db
def test_cancelling_locks_the_event_and_its_bookings(event):
    paid_booking(event)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        services.event_cancel(event=event)

    if connection.vendor == "postgresql":
        locked = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"]]
        assert any('"bookings_event"' in sql for sql in locked)
        assert any('"bookings_booking"' in sql for sql in locked)
    assert any("bookings_event" in q["sql"] for q in queries)


# The admin: an action for many events, a button on one -----------------------------------------


def changelist(model="event"):
    return reverse(f"admin:bookings_{model}_changelist")


@pytest.mark.django_db
def test_the_cancel_action_asks_for_confirmation_first(client_as_staff, event):
    booking = paid_booking(event)

    response = client_as_staff.post(changelist(), {"action": "cancel_events", "_selected_action": [event.pk]})

    assert response.status_code == 200
    assert b"Yes, cancel the event" in response.content
    assert b"1 confirmed booking" in response.content
    event.refresh_from_db()
    booking.refresh_from_db()
    assert event.status == Event.Status.SCHEDULED
    assert booking.status == Booking.Status.CONFIRMED


@pytest.mark.django_db
def test_the_confirmed_cancel_action_calls_the_service(
    client_as_staff, event, refunds, mailoutbox, django_capture_on_commit_callbacks
):
    booking = paid_booking(event)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_as_staff.post(
            changelist(),
            {"action": "cancel_events", "_selected_action": [event.pk], "confirm": "yes"},
            follow=True,
        )

    assert "is cancelled. 1 booking is being refunded and emailed." in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_the_cancel_action_ignores_another_organisers_events(client_as_staff, other_organiser, event):
    theirs = EventFactory(organiser=other_organiser)

    client_as_staff.post(
        changelist(), {"action": "cancel_events", "_selected_action": [theirs.pk, event.pk], "confirm": "yes"}
    )

    theirs.refresh_from_db()
    event.refresh_from_db()
    assert theirs.status == Event.Status.SCHEDULED
    assert event.status == Event.Status.CANCELLED


@pytest.mark.django_db
def test_the_cancel_button_confirms_then_cancels(
    client_as_staff, event, mailoutbox, django_capture_on_commit_callbacks
):
    paid_booking(event)
    url = reverse("admin:bookings_event_cancel", args=[event.pk])
    change_page = client_as_staff.get(reverse("admin:bookings_event_change", args=[event.pk]))
    assert url in change_page.content.decode()

    confirm = client_as_staff.get(url)
    assert confirm.status_code == 200
    assert b"Yes, cancel the event" in confirm.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as_staff.post(url, {"confirm": "yes"})

    assert response.status_code == 302
    assert response.url == reverse("admin:bookings_event_change", args=[event.pk])
    event.refresh_from_db()
    assert event.is_cancelled
    assert len(mailoutbox) == 1
    change_page = client_as_staff.get(reverse("admin:bookings_event_change", args=[event.pk]))
    assert url not in change_page.content.decode()  # nothing left to cancel


@pytest.mark.django_db
def test_the_cancel_button_of_another_organisers_event_is_404(client_as_staff, other_organiser):
    theirs = EventFactory(organiser=other_organiser)
    url = reverse("admin:bookings_event_cancel", args=[theirs.pk])

    assert client_as_staff.get(url).status_code == 404
    assert client_as_staff.post(url, {"confirm": "yes"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Event.Status.SCHEDULED


@pytest.mark.django_db
def test_an_ended_event_shows_why_it_was_not_cancelled(client_as_staff, organiser):
    past = EventFactory(organiser=organiser, starts_at=timezone.now() - timedelta(days=2))

    response = client_as_staff.post(
        reverse("admin:bookings_event_cancel", args=[past.pk]), {"confirm": "yes"}, follow=True
    )

    assert "has already ended" in response.content.decode()


@pytest.mark.django_db
def test_staff_cannot_set_an_events_status_in_the_form(client_as_staff, event):
    response = client_as_staff.get(reverse("admin:bookings_event_change", args=[event.pk]))

    assert "status" not in response.context["adminform"].form.fields
