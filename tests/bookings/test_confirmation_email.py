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
    """Lock, one query for the booking with its event, organiser, attendees and tickets, stamp
    (the lock goes with the transaction): the email fan-out sends one per booking. The email
    shows every field it needs from that one query."""
    booking.event.venue = "The Long Hall"
    booking.event.save()
    booking.discount, booking.discount_reason = 200, "Member discount"
    booking.save()
    AttendeeFactory(booking=booking, organiser=booking.organiser, name="Second Attendee")
    advisory_lock = 1 if connection.vendor == "postgresql" else 0
    savepoint_and_release = 2  # the test runs in a transaction, so send_once's is a savepoint

    with django_assert_num_queries(2 + advisory_lock + savepoint_and_release):
        emails.booking_send_confirmation(booking_id=booking.pk)

    (message,) = mailoutbox
    for text in ["The Long Hall", "Member discount", "-£2.00", "Second Attendee", booking.organiser.name]:
        assert text in message.body and text in message.alternatives[0][0], text


@pytest.mark.django_db
def test_attendees_are_listed_in_booking_order_with_their_own_ticket_types(booking, mailoutbox):
    AttendeeFactory(
        booking=booking, organiser=booking.organiser, name="Second Attendee", ticket_type__name="Family pass"
    )
    AttendeeFactory(booking=booking, organiser=booking.organiser, name="Third Attendee")

    emails.booking_send_confirmation(booking_id=booking.pk)

    (message,) = mailoutbox
    lines = [line for line in message.body.splitlines() if line.startswith("- ")]
    assert [line.split(":")[0] for line in lines] == [
        "- Kit Attendee (child)",
        "- Second Attendee",
        "- Third Attendee",
    ]
    assert "Family pass" in lines[1] and "Family pass" not in lines[0] + lines[2]


@pytest.mark.django_db
def test_a_cancelled_booking_gets_no_confirmation_and_is_not_stamped(booking, mailoutbox):
    booking.status = booking.Status.CANCELLED
    booking.save()

    assert emails.booking_send_confirmation(booking_id=booking.pk) is False

    booking.refresh_from_db()
    assert mailoutbox == [] and booking.confirmation_sent_at is None


@pytest.mark.django_db
def test_sending_stamps_the_booking_and_nothing_else(booking, mailoutbox):
    other = AttendeeFactory(booking__organiser=booking.organiser).booking

    emails.booking_send_confirmation(booking_id=booking.pk)

    booking.refresh_from_db()
    other.refresh_from_db()
    assert booking.confirmation_sent_at is not None and other.confirmation_sent_at is None


def test_the_task_retries_on_smtp_failure_with_backoff():
    assert SMTPException in booking_send_confirmation.autoretry_for
    assert booking_send_confirmation.retry_backoff and booking_send_confirmation.max_retries >= 3


def test_the_task_retries_when_the_database_connection_broke():
    """A Postgres restart mid-task must not lose the email: the task runs again on a new connection."""
    assert {OperationalError, InterfaceError} <= set(booking_send_confirmation.autoretry_for)
