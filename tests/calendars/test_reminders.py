"""Reminder emails: when the organiser's rules say, once per booking and time, never for a
cancelled booking or an event that started; bookers turn them off per organiser, from the
Account page or with the email's one-click unsubscribe (RFC 8058)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bookings.models import Booking, BookingRules, Event
from calendars import emails as calendar_emails
from calendars import services
from calendars import tasks as calendar_tasks
from calendars.models import Reminder, ReminderOptOut
from tests.calendars.helpers import ics_parts, only_event
from tests.factories import AttendeeFactory, BookingRulesFactory, EventFactory


def booked(organiser, *, starts_in: timedelta, booked_ago=timedelta(days=3), user=None, **booking):
    event = EventFactory(
        organiser=organiser,
        title="Morning Yoga",
        what_to_bring="A mat and water",
        starts_at=timezone.now() + starts_in,
    )
    attendee = AttendeeFactory(
        organiser=organiser,
        booking__event=event,
        booking__user=user,
        booking__booker_email=user.email if user else "guest@example.com",
        booking__status=booking.pop("status", Booking.Status.CONFIRMED),
        ticket_type__event=event,
        **{f"booking__{k}": v for k, v in booking.items()},
    )
    Booking.objects.filter(pk=attendee.booking_id).update(created_at=timezone.now() - booked_ago)
    return Booking.objects.select_related("event").get(pk=attendee.booking_id)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Beat's job, with the emails it enqueues sent (the tasks run in-process in tests)."""

    def run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return services.reminders_due(**kwargs)

    return run


@pytest.mark.django_db
def test_a_reminder_goes_24_hours_before_by_default_once(organiser, run, mailoutbox):
    due = booked(organiser, starts_in=timedelta(hours=23))
    not_yet = booked(organiser, starts_in=timedelta(hours=25))

    run()
    run()
    calendar_emails.reminder_send(reminder_id=Reminder.objects.get().pk)  # a redelivered task

    (message,) = mailoutbox
    assert message.to == [due.booker_email]
    assert message.subject.startswith("Reminder: Morning Yoga") and f"({due.reference})" in message.subject
    reminder = Reminder.objects.get()
    assert (reminder.booking, reminder.hours_before, reminder.sent_at is not None) == (due, 24, True)
    assert not Reminder.objects.filter(booking=not_yet).exists()


@pytest.mark.django_db
def test_the_reminder_has_the_link_the_calendar_file_what_to_bring_and_what_can_still_change(
    organiser, booker, run, mailoutbox
):
    BookingRulesFactory(
        organiser=organiser, event=None, cancellation_cutoff_hours=12, transfers_allowed=False
    )
    booking = booked(organiser, starts_in=timedelta(hours=23), user=booker)

    run()

    (message,) = mailoutbox
    html = message.alternatives[0][0]
    for part in (message.body, html):
        assert "/portal/link/" in part and "A mat and water" in part
        assert "cancel until" in part and "move to another date" not in part
    ((_, calendar),) = ics_parts(message)
    assert only_event(calendar)["uid"].startswith(f"booking-{booking.reference}@")
    # One-click unsubscribe (RFC 8058), over https in production (the site's own scheme here).
    unsubscribe = message.extra_headers["List-Unsubscribe"]
    assert unsubscribe.startswith("<http") and "/portal/calendar/reminders/off/" in unsubscribe
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.message()["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The same Message-ID however often it is sent (a killed worker's email sent twice).
    assert message.message()["Message-ID"] == f"<reminder-{Reminder.objects.get().pk}@127.0.0.1>"


@pytest.mark.django_db
def test_the_organisers_rules_choose_the_times(organiser, other_organiser, run):
    BookingRulesFactory(organiser=organiser, event=None, reminders=BookingRules.Reminders.BOTH)
    BookingRulesFactory(organiser=other_organiser, event=None, reminders=BookingRules.Reminders.OFF)
    day = booked(organiser, starts_in=timedelta(hours=23))
    soon = booked(organiser, starts_in=timedelta(minutes=90))
    off = booked(other_organiser, starts_in=timedelta(hours=1))
    override = booked(organiser, starts_in=timedelta(hours=1))
    BookingRulesFactory(organiser=organiser, event=override.event, reminders=BookingRules.Reminders.OFF)

    run()

    assert set(Reminder.objects.values_list("booking", "hours_before")) == {(day.pk, 24), (soon.pk, 2)}
    assert off and override  # made, and left alone


@pytest.mark.django_db
def test_when_both_are_due_at_once_only_the_nearer_goes(organiser, run, mailoutbox):
    BookingRulesFactory(organiser=organiser, event=None, reminders=BookingRules.Reminders.BOTH)
    booking = booked(organiser, starts_in=timedelta(minutes=90))

    run()

    assert list(Reminder.objects.values_list("booking", "hours_before")) == [(booking.pk, 2)]
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_no_reminder_for_cancelled_pending_or_late_bookings_or_cancelled_or_started_events(
    organiser, run, mailoutbox
):
    booked(organiser, starts_in=timedelta(hours=23), status=Booking.Status.CANCELLED)
    booked(organiser, starts_in=timedelta(hours=23), status=Booking.Status.PENDING)
    booked(organiser, starts_in=timedelta(hours=23), booked_ago=timedelta(minutes=30))  # after its time
    cancelled_event = booked(organiser, starts_in=timedelta(hours=23))
    Event.objects.filter(pk=cancelled_event.event_id).update(status=Event.Status.CANCELLED)
    booked(organiser, starts_in=-timedelta(minutes=5))

    run()

    assert mailoutbox == [] and not Reminder.objects.exists()


@pytest.mark.django_db
def test_a_booking_cancelled_after_its_reminder_was_made_gets_no_email(
    organiser, mailoutbox, django_capture_on_commit_callbacks
):
    booking = booked(organiser, starts_in=timedelta(hours=23))
    with django_capture_on_commit_callbacks(execute=False):  # the task is queued, not run yet
        services.reminders_due()
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CANCELLED)

    assert calendar_emails.reminder_send(reminder_id=Reminder.objects.get().pk) is False
    assert mailoutbox == []


@pytest.mark.django_db
def test_one_click_unsubscribe_stops_that_organisers_reminders(organiser, other_organiser, run, mailoutbox):
    booked(organiser, starts_in=timedelta(hours=23))
    run()
    url = mailoutbox[0].extra_headers["List-Unsubscribe"].strip("<>").removeprefix("http://127.0.0.1:8000")
    mail_program = Client(enforce_csrf_checks=True)

    assert mail_program.get(url).status_code == 200  # a link checker changes nothing
    assert not ReminderOptOut.objects.exists()
    response = mail_program.post(
        url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert (
        mail_program.post(
            url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        ).status_code
        == 200
    )

    mailoutbox.clear()
    booked(organiser, starts_in=timedelta(hours=22))
    elsewhere = booked(other_organiser, starts_in=timedelta(hours=22))
    run()
    assert [m.subject for m in mailoutbox] == [
        f"Reminder: {elsewhere.event.title}, " + mailoutbox[0].subject.split(", ", 1)[1]
    ]
    assert f"({elsewhere.reference})" in mailoutbox[0].subject
    assert Client().post(url[:-3] + "xyz/").status_code == 404  # tampered


@pytest.mark.django_db
def test_bookers_turn_reminders_off_per_organiser_on_the_account_page(
    client_as_booker, booker, organiser, other_organiser, run, mailoutbox
):
    here = booked(organiser, starts_in=timedelta(hours=23), user=booker)
    there = booked(other_organiser, starts_in=timedelta(hours=23), user=booker)
    page = client_as_booker.get(reverse("accounts:account")).content.decode()
    assert f'value="{organiser.pk}"' in page and f'value="{other_organiser.pk}"' in page
    stranger = EventFactory().organiser  # not theirs: ignored

    response = client_as_booker.post(
        reverse("calendars:reminders_choose"), {"on": [other_organiser.pk, stranger.pk]}
    )
    client_as_booker.post(reverse("calendars:reminders_choose"), {"on": [other_organiser.pk]})  # again

    assert response.status_code == 302
    assert list(ReminderOptOut.objects.values_list("user", "organiser")) == [(booker.pk, organiser.pk)]
    run()
    assert [m.subject.endswith(f"({there.reference})") for m in mailoutbox] == [True]
    assert not Reminder.objects.filter(booking=here).exists()
    # Back on: the next run sends it.
    client_as_booker.post(reverse("calendars:reminders_choose"), {"on": [organiser.pk, other_organiser.pk]})
    run()
    assert len(mailoutbox) == 2 and mailoutbox[1].subject.endswith(f"({here.reference})")


@pytest.mark.django_db
def test_a_reminder_costs_a_few_queries(
    organiser, django_assert_max_num_queries, mailoutbox, django_capture_on_commit_callbacks
):
    booked(organiser, starts_in=timedelta(hours=23))
    with django_capture_on_commit_callbacks(execute=False):
        services.reminders_due()
    reminder = Reminder.objects.get()

    # Lock, the reminder with its booking, event, organiser and opt-outs in one statement, the
    # event's rules (kept a minute per worker), stamp; plus the savepoint pair of the test's
    # transaction.
    with django_assert_max_num_queries(6):
        assert calendar_emails.reminder_send(reminder_id=reminder.pk) is True


@pytest.mark.django_db
def test_a_batch_run_again_after_its_worker_died_sends_nothing_twice(
    organiser, mailoutbox, django_capture_on_commit_callbacks
):
    bookings = [booked(organiser, starts_in=timedelta(hours=23)) for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=False):
        ids = services.reminders_due()
    Reminder.objects.filter(booking=bookings[0]).update(sent_at=timezone.now())  # sent before it died

    assert calendar_tasks.reminders_send(ids) == 2
    assert calendar_tasks.reminders_send(ids) == 0  # the redelivered batch

    assert sorted(m.subject[-9:-1] for m in mailoutbox) == sorted(b.reference for b in bookings[1:])
