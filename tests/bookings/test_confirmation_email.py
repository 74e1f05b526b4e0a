from __future__ import annotations

from smtplib import SMTPException
from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.test import Client

from bookings import emails
from bookings.tasks import booking_send_confirmation
from tests.factories import AttendeeFactory


@pytest.fixture
def booking(organiser):
    organiser.time_zone = "America/New_York"
    organiser.contact_phone = "+1 555 0100"
    organiser.save()
    return AttendeeFactory(booking__organiser=organiser, name="Kit Attendee", is_child=True).booking


@pytest.mark.django_db
def test_the_confirmation_has_everything_and_a_working_view_booking_link(booking, mailoutbox):
    booking_send_confirmation(booking.pk)

    (message,) = mailoutbox
    html = message.alternatives[0][0]
    local_start = booking.event.starts_at.astimezone(booking.organiser.tzinfo)
    for text in [
        booking.event.title,
        booking.reference,
        "Kit Attendee",
        "(child)",
        "£10.00",
        local_start.strftime("%H:%M"),
        "+1 555 0100",
    ]:
        assert text in message.body and text in html, text
    assert "View booking" in html
    url = message.body.split("View booking: ")[1].split()[0]
    assert Client().get(url, follow=True).status_code == 200


@pytest.mark.django_db
def test_the_same_task_run_twice_sends_one_email(booking, mailoutbox):
    assert booking_send_confirmation(booking.pk) is True
    assert booking_send_confirmation(booking.pk) is False
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_a_failed_send_is_released_so_the_retry_sends_it(booking, mailoutbox):
    with mock.patch("bookings.emails.send_templated_email", side_effect=SMTPException("down")):
        with pytest.raises(SMTPException):
            emails.booking_send_confirmation(booking_id=booking.pk)
    booking.refresh_from_db()
    assert booking.confirmation_sent_at is None

    assert emails.booking_send_confirmation(booking_id=booking.pk) is True
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_the_confirmation_costs_the_same_few_queries_however_much_it_shows(
    booking, mailoutbox, django_assert_num_queries
):
    """Lock, booking with event and organiser, attendees with tickets, stamp, unlock: a field the
    email shows that the query leaves out would cost a query more (issue 12's fan-out)."""
    booking.event.venue = "The Long Hall"
    booking.event.save()
    booking.discount, booking.discount_reason = 200, "Member discount"
    booking.save()
    AttendeeFactory(booking=booking, organiser=booking.organiser, name="Second Attendee")
    advisory_lock_and_unlock = 2 if connection.vendor == "postgresql" else 0

    with django_assert_num_queries(3 + advisory_lock_and_unlock):
        emails.booking_send_confirmation(booking_id=booking.pk)

    (message,) = mailoutbox
    for text in ["The Long Hall", "Member discount", "-£2.00", "Second Attendee", booking.organiser.name]:
        assert text in message.body and text in message.alternatives[0][0], text


def test_the_task_retries_on_smtp_failure_with_backoff():
    assert SMTPException in booking_send_confirmation.autoretry_for
    assert booking_send_confirmation.retry_backoff and booking_send_confirmation.max_retries >= 3


def test_the_task_retries_when_the_database_connection_broke():
    """A Postgres restart mid-task must not lose the email: the task runs again on a new connection."""
    assert {OperationalError, InterfaceError} <= set(booking_send_confirmation.autoretry_for)
