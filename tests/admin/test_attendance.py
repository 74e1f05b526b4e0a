from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings import exceptions, services
from bookings.models import Attendee, Booking
from tests.factories import AttendeeFactory, BookingFactory, EventFactory

CHANGELIST = reverse("admin:bookings_attendee_changelist")
ATTENDED, ABSENT, UNMARKED = (
    Attendee.Attendance.ATTENDED,
    Attendee.Attendance.ABSENT,
    Attendee.Attendance.UNMARKED,
)


@pytest.fixture
def tracking(organiser):
    organiser.attendance_tracking = True
    organiser.save()
    return organiser


def attendee_at(organiser, *, days_ago=1, **kwargs):
    event = EventFactory(organiser=organiser, starts_at=timezone.now() - timedelta(days=days_ago))
    return AttendeeFactory(booking=BookingFactory(event=event, **kwargs))


def attendance(*attendees):
    return [Attendee.objects.get(pk=a.pk).attendance for a in attendees]


@pytest.mark.django_db
def test_the_action_marks_only_the_selected_attendees(client_as_staff, tracking):
    chosen, also_chosen, left_alone = (attendee_at(tracking) for _ in range(3))

    response = client_as_staff.post(
        CHANGELIST, {"action": "mark_attended", "_selected_action": [chosen.pk, also_chosen.pk]}, follow=True
    )

    assert attendance(chosen, also_chosen, left_alone) == [ATTENDED, ATTENDED, UNMARKED]
    assert "Attended: 2 attendee(s) marked." in response.content.decode()


@pytest.mark.django_db
def test_did_not_attend_and_clearing_work_too(client_as_staff, tracking):
    attendee = attendee_at(tracking)

    client_as_staff.post(CHANGELIST, {"action": "mark_absent", "_selected_action": [attendee.pk]})
    assert attendance(attendee) == [ABSENT]
    client_as_staff.post(CHANGELIST, {"action": "mark_unmarked", "_selected_action": [attendee.pk]})
    assert attendance(attendee) == [UNMARKED]


@pytest.mark.django_db
def test_the_action_never_touches_another_organisers_attendees(client_as_staff, tracking, other_organiser):
    other_organiser.attendance_tracking = True
    other_organiser.save()
    ours, theirs = attendee_at(tracking), attendee_at(other_organiser)

    client_as_staff.post(CHANGELIST, {"action": "mark_attended", "_selected_action": [ours.pk, theirs.pk]})

    assert attendance(ours, theirs) == [ATTENDED, UNMARKED]


@pytest.mark.django_db
def test_the_service_ignores_another_organisers_ids(tracking, other_organiser):
    ours, theirs = attendee_at(tracking), attendee_at(other_organiser)

    changed = services.attendance_mark(
        organiser=tracking, attendee_ids=[ours.pk, theirs.pk], attendance=ABSENT
    )

    assert changed == 1
    assert attendance(ours, theirs) == [ABSENT, UNMARKED]


@pytest.mark.django_db
def test_without_attendance_tracking_there_are_no_attendance_actions(client_as_staff, organiser):
    attendee = attendee_at(organiser)

    response = client_as_staff.get(CHANGELIST)
    action_form = response.context["action_form"]
    assert action_form is None or "mark_attended" not in dict(action_form.fields["action"].choices)
    response = client_as_staff.post(
        CHANGELIST, {"action": "mark_attended", "_selected_action": [attendee.pk]}
    )

    assert attendance(attendee) == [UNMARKED]


@pytest.mark.django_db
def test_the_service_refuses_an_organiser_without_attendance_tracking(organiser):
    attendee = attendee_at(organiser)

    with pytest.raises(exceptions.OrganiserError, match="not switched on"):
        services.attendance_mark(organiser=organiser, attendee_ids=[attendee.pk], attendance=ATTENDED)

    assert attendance(attendee) == [UNMARKED]


@pytest.mark.django_db
def test_attendance_of_an_event_that_has_not_started_is_left_alone(client_as_staff, tracking):
    past, future = attendee_at(tracking), attendee_at(tracking, days_ago=-3)

    response = client_as_staff.post(
        CHANGELIST, {"action": "mark_attended", "_selected_action": [past.pk, future.pk]}, follow=True
    )

    assert attendance(past, future) == [ATTENDED, UNMARKED]
    assert "once the event has started" in response.content.decode()


@pytest.mark.django_db
def test_cancelled_bookings_attendees_are_not_listed_or_marked(client_as_staff, tracking):
    cancelled = attendee_at(tracking, status=Booking.Status.CANCELLED)

    response = client_as_staff.get(CHANGELIST)
    assert cancelled.pk not in {a.pk for a in response.context["cl"].result_list}
    assert services.attendance_mark(organiser=tracking, attendee_ids=[cancelled.pk], attendance=ATTENDED) == 0


@pytest.mark.django_db
def test_attendance_is_read_only_on_the_booking_page(client_as_staff, tracking):
    attendee = attendee_at(tracking)

    response = client_as_staff.get(reverse("admin:bookings_booking_change", args=[attendee.booking.pk]))

    inline = response.context["inline_admin_formsets"][0]
    assert "attendance" not in inline.formset.forms[0].fields
    assert attendee.name in response.content.decode()


@pytest.mark.django_db
def test_the_event_filter_lists_only_our_events(client_as_staff, tracking, other_organiser):
    ours, theirs = attendee_at(tracking), attendee_at(other_organiser)

    response = client_as_staff.get(CHANGELIST, {"event": ours.booking.event.pk})

    assert [a.pk for a in response.context["cl"].result_list] == [ours.pk]
    assert theirs.booking.event.title not in response.content.decode()
