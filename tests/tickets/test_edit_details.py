"""A booker corrects attendee names and booking-form answers until the organiser's cut-off,
checked like the booking form; the organiser sees who changed what, when; the booker is emailed."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from bookings import links, services
from bookings.exceptions import BookingError
from bookings.models import BookingFormField, BookingRules, DetailEdit
from tests.factories import (
    AttendeeFactory,
    BookingFormFieldFactory,
    BookingFormResponseFactory,
    DetailEditFactory,
    EventFactory,
    TicketTypeFactory,
)
from tests.helpers import in_days, paid_booking, rules

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(organiser, booker):
    """Bea and her child "Mya" (misspelt: Maya), with an answer to the organiser's question."""
    event = EventFactory(organiser=organiser, title="Mini Movers", starts_at=in_days(5))
    rules(event, details_cutoff_hours=24)
    adult = TicketTypeFactory(event=event, name="Adult", price=0)
    child = TicketTypeFactory(event=event, name="Child", price=650)
    booking = paid_booking(adult, total=650, user=booker, booker_email=booker.email)
    booking.attendees.update(name="Bea")
    AttendeeFactory(booking=booking, ticket_type=child, name="Mya", is_child=True)
    question = BookingFormFieldFactory(organiser=organiser, label="Allergies?", required=True)
    BookingFormResponseFactory(booking=booking, field=question, label="Allergies?", answer="None")
    return booking


def url(booking):
    return reverse("bookings:booking_details", args=[booking.reference])


def form_data(booking, **changes):
    bea, mya = booking.attendees.order_by("pk")
    question = BookingFormField.objects.get(label="Allergies?")
    data = {
        f"attendee_{bea.pk}_name": "Bea",
        f"attendee_{mya.pk}_name": "Mya",
        f"question_{question.pk}": "None",
        "idempotency_key": "edit-1",
    }
    data.update(changes)
    return data


def names(booking):
    return list(booking.attendees.order_by("pk").values_list("name", flat=True))


def test_the_booker_fixes_a_name_and_an_answer_and_is_emailed_what_changed(
    client_as_booker, family, booker, mailoutbox, django_capture_on_commit_callbacks
):
    _, mya = family.attendees.order_by("pk")
    question = BookingFormField.objects.get()
    data = form_data(family, **{f"attendee_{mya.pk}_name": "Maya", f"question_{question.pk}": "Peanuts"})

    with django_capture_on_commit_callbacks(execute=True):
        response = client_as_booker.post(url(family), data)

    assert response.status_code == 302
    assert names(family) == ["Bea", "Maya"]
    assert family.responses.get().answer == "Peanuts"
    edit = DetailEdit.objects.get()
    assert (
        edit.changed_by == booker and edit.changed_by_shown == f"{booker.name} <{booker.email}> (the booker)"
    )
    with translation.override("de"):  # the admin names the role in its reader's language
        assert edit.changed_by_shown.endswith("(die buchende Person)")
    assert edit.changes == [
        {
            "field": "attendee_name",
            "attendee": 2,
            "ticket": "Child",
            "what": "Name of attendee 2 (Child)",
            "before": "Mya",
            "after": "Maya",
        },
        {"field": "question", "what": "Allergies?", "before": "None", "after": "Peanuts"},
    ]
    (message,) = mailoutbox
    assert message.subject == f"Details changed: Mini Movers ({family.reference})"
    assert "Name of attendee 2 (Child): “Mya” → “Maya”" in message.body
    page = client_as_booker.get(response["Location"]).content.decode()
    assert "Your changes are saved." in page


def test_the_form_starts_from_the_booking_as_it_is(client_as_booker, family):
    content = client_as_booker.get(url(family)).content.decode()
    assert 'value="Mya"' in content and 'value="None"' in content
    assert "Name of attendee 2 (Child)" in content


def test_an_empty_name_or_a_missing_required_answer_is_refused_and_nothing_is_saved(client_as_booker, family):
    _, mya = family.attendees.order_by("pk")
    question = BookingFormField.objects.get()
    response = client_as_booker.post(
        url(family), form_data(family, **{f"attendee_{mya.pk}_name": "  ", f"question_{question.pk}": ""})
    )

    assert response.status_code == 200
    assert response.content.decode().count("This field is required.") == 2
    assert names(family) == ["Bea", "Mya"]
    assert not DetailEdit.objects.exists()


def test_a_choice_answer_must_be_one_of_the_choices(client_as_booker, family, organiser):
    question = BookingFormField.objects.get()
    question.field_type, question.choices = BookingFormField.FieldType.CHOICE, "None\nPeanuts"
    question.save()

    response = client_as_booker.post(url(family), form_data(family, **{f"question_{question.pk}": "Gluten"}))

    assert "Select a valid choice." in response.content.decode()
    assert family.responses.get().answer == "None"


def test_saving_twice_with_one_key_records_one_change_and_one_email(
    client_as_booker, family, mailoutbox, django_capture_on_commit_callbacks
):
    _, mya = family.attendees.order_by("pk")
    data = form_data(family, **{f"attendee_{mya.pk}_name": "Maya"})
    with django_capture_on_commit_callbacks(execute=True):
        client_as_booker.post(url(family), data)
    with django_capture_on_commit_callbacks(execute=True):
        again = client_as_booker.post(url(family), data)

    assert again.status_code == 302
    assert DetailEdit.objects.count() == 1 and len(mailoutbox) == 1


def test_saving_without_a_change_says_so(client_as_booker, family):
    response = client_as_booker.post(url(family), form_data(family))
    assert "Nothing was changed" in response.content.decode()
    assert not DetailEdit.objects.exists()


def test_without_the_rule_details_are_never_editable_and_manage_says_why(client_as_booker, family):
    BookingRules.objects.filter(event=family.event).update(details_cutoff_hours=None)
    _, mya = family.attendees.order_by("pk")

    response = client_as_booker.post(url(family), form_data(family, **{f"attendee_{mya.pk}_name": "Maya"}))

    assert "doesn&#x27;t let bookers change attendee details" in response.content.decode()
    assert names(family) == ["Bea", "Mya"]
    manage = client_as_booker.get(
        reverse("bookings:booking_manage", args=[family.reference])
    ).content.decode()
    assert "doesn&#x27;t let bookers change attendee details" in manage
    assert url(family) not in manage


def test_after_the_cutoff_the_details_are_closed(family, booker):
    BookingRules.objects.filter(event=family.event).update(details_cutoff_hours=24)
    family.event.starts_at = timezone.now() + timedelta(hours=23)
    family.event.save()

    with pytest.raises(BookingError, match="Changes to attendee details close 24 hours before the event."):
        services.booking_edit_details(
            booking=family, names={}, answers={}, idempotency_key="late", user=booker
        )


def test_a_guest_with_the_view_booking_link_can_correct_their_booking(
    family, django_capture_on_commit_callbacks
):
    guest = Client()
    guest.get(links.view_booking_url(family).removeprefix("http://testserver"))
    _, mya = family.attendees.order_by("pk")

    with django_capture_on_commit_callbacks(execute=True):
        guest.post(url(family), form_data(family, **{f"attendee_{mya.pk}_name": "Maya"}))

    edit = DetailEdit.objects.get()
    assert edit.changed_by is None and edit.changed_by_label == family.booker_email
    assert "View booking link" in edit.changed_by_shown and family.booker_email in edit.changed_by_shown


def test_with_htmx_an_invalid_form_comes_back_into_the_dialog_and_a_saved_one_refreshes(
    client_as_booker, family, htmx
):
    _, mya = family.attendees.order_by("pk")
    invalid = client_as_booker.post(url(family), form_data(family, **{f"attendee_{mya.pk}_name": ""}), **htmx)
    assert invalid.status_code == 200 and "<html" not in invalid.content.decode()
    assert invalid["HX-Retarget"] == "#modal"

    saved = client_as_booker.post(
        url(family),
        form_data(family, **{f"attendee_{mya.pk}_name": "Maya"}),
        HTTP_HX_CURRENT_URL="http://testserver/portal/events/",
        **htmx,
    )
    assert saved["HX-Refresh"] == "true"


def test_the_organiser_sees_who_changed_what_when_in_the_admin(family, booker, client_as_staff):
    _, mya = family.attendees.order_by("pk")
    services.booking_edit_details(
        booking=family, names={mya.pk: "Maya"}, answers={}, idempotency_key="admin", user=booker
    )

    page = client_as_staff.get(reverse("admin:bookings_booking_change", args=[family.pk])).content.decode()

    assert "details changed by the booker" in page.lower()
    assert "Name of attendee 2 (Child): “Mya” → “Maya”" in page
    assert "(the booker)" in page


def test_the_trail_names_a_changed_name_in_the_readers_language(family, booker, staff, client_as_staff):
    _, mya = family.attendees.order_by("pk")
    services.booking_edit_details(
        booking=family, names={mya.pk: "Maya"}, answers={}, idempotency_key="fr", user=booker
    )
    staff.language = "fr"
    staff.save(update_fields=["language"])

    page = client_as_staff.get(reverse("admin:bookings_booking_change", args=[family.pk])).content.decode()

    assert "Nom du participant 2 (Child): “Mya” → “Maya”" in page  # the admin's language
    assert f"{booker.email}&gt; (la personne qui a réservé)" in page
    assert "Name of attendee 2" not in page and "(the booker)" not in page


def test_the_email_names_a_changed_name_in_the_bookers_language(
    family, booker, mailoutbox, django_capture_on_commit_callbacks
):
    booker.language = "de"
    booker.save(update_fields=["language"])
    _, mya = family.attendees.order_by("pk")
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_edit_details(
            booking=family, names={mya.pk: "Maya"}, answers={}, idempotency_key="de", user=booker
        )

    (message,) = mailoutbox
    assert "Name von Teilnehmer 2 (Child): “Mya” → “Maya”" in message.body


def test_a_trail_stored_before_the_keys_shows_as_it_was_stored(family):
    edit = DetailEditFactory(booking=family, organiser=family.organiser)
    with translation.override("fr"):
        assert edit.changes_shown() == [{"what": "Name of attendee 1", "before": "Mya", "after": "Maya"}]


def test_who_changed_a_trail_stored_as_english_text_becomes_a_key_the_reader_sees_translated(family):
    as_text = {
        "Bea Booker <bea@example.com> (the booker)": ("Bea Booker <bea@example.com>", "booker"),
        "Al <al@example.com> (another account)": ("Al <al@example.com>", "other_account"),
        "Whoever opened the booking's View booking link, sent to bea@example.com": (
            "bea@example.com",
            "link",
        ),
        "Deleted booker": ("Deleted booker", ""),
    }
    edits = {
        text: DetailEditFactory(booking=family, organiser=family.organiser, changed_by_label=text)
        for text in as_text
    }

    import_module("bookings.migrations.0021_detail_edit_changed_by_role").role_from_label(apps, None)

    for text, edit in edits.items():
        edit.refresh_from_db()
        assert (edit.changed_by_label, edit.changed_by_role) == as_text[text]
        assert edit.changed_by_shown == text  # in English, as it read before
    with translation.override("es"):
        assert (
            edits["Al <al@example.com> (another account)"].changed_by_shown
            == "Al <al@example.com> (otra cuenta)"
        )


def test_another_bookings_attendee_slipped_into_the_form_is_not_changed(
    client_as_booker, family, other_booker
):
    stranger = AttendeeFactory(booking__user=other_booker, name="Stranger")

    client_as_booker.post(url(family), form_data(family, **{f"attendee_{stranger.pk}_name": "Renamed"}))

    stranger.refresh_from_db()
    assert stranger.name == "Stranger"
    assert not DetailEdit.objects.filter(booking=stranger.booking).exists()
