"""Emails speak the recipient's language, also from a Celery worker (which has no request): the
account's saved choice, else the organiser's default language, else English (issue 25)."""

from __future__ import annotations

import pytest
from django.utils import translation

from bookings.emails import booking_send_new_links
from bookings.tasks import booking_send_confirmation
from tests.factories import AttendeeFactory, UserFactory


@pytest.fixture
def booking(organiser):
    return AttendeeFactory(booking__organiser=organiser, name="Kit Attendee").booking


@pytest.mark.django_db
def test_a_booker_whose_account_speaks_german_gets_the_confirmation_in_german(booking, mailoutbox):
    booking.user = UserFactory(email=booking.booker_email, language="de")
    booking.save()

    booking_send_confirmation(booking.pk)

    (message,) = mailoutbox
    assert message.subject == f"Ihre Buchung für {booking.event.title} ({booking.reference})"
    html = message.alternatives[0][0]
    for part in (message.body, html):
        assert f"Hallo {booking.booker_name}," in part
        assert "10,00" in part  # money as German writes it
        assert "Your booking for" not in part and "Hello " not in part
    assert '<html lang="de">' in html  # screen readers and mail programs read it in German


@pytest.mark.django_db
def test_a_guest_gets_the_organisers_default_language(booking, mailoutbox):
    booking.organiser.default_language = "de"
    booking.organiser.save()

    booking_send_confirmation(booking.pk)

    (message,) = mailoutbox
    assert message.subject.startswith("Ihre Buchung für ")


@pytest.mark.django_db
def test_the_accounts_choice_wins_over_the_organisers_default(booking, mailoutbox):
    booking.organiser.default_language = "de"
    booking.organiser.save()
    booking.user = UserFactory(email=booking.booker_email, language="en-gb")
    booking.save()

    booking_send_confirmation(booking.pk)

    (message,) = mailoutbox
    assert message.subject.startswith("Your booking for ")


@pytest.mark.django_db
def test_the_language_active_in_the_worker_does_not_leak_into_the_email(booking, mailoutbox):
    with translation.override("de"):  # whatever the previous task left active
        booking_send_confirmation(booking.pk)
        assert translation.get_language() == "de"

    (message,) = mailoutbox
    assert message.subject.startswith("Your booking for ")
    assert "£10.00" in message.body


@pytest.mark.django_db
def test_new_view_booking_links_go_out_in_the_language_of_the_account_with_that_address(booking, mailoutbox):
    booking.status = booking.Status.CONFIRMED
    booking.save()
    UserFactory(email=booking.booker_email, language="de")

    assert booking_send_new_links(email=booking.booker_email) == 1

    (message,) = mailoutbox
    assert "Ihre" in message.subject or "Ihr" in message.subject, message.subject
    assert "Your" not in message.subject


@pytest.mark.django_db
def test_a_guests_links_open_the_portal_in_the_emails_language(booking, mailoutbox, client, settings):
    booking.organiser.default_language = "fr"
    booking.organiser.save()

    booking_send_confirmation(booking.pk)

    (message,) = mailoutbox
    html = message.alternatives[0][0]
    text_links = [word for word in message.body.split() if word.startswith(settings.SITE_URL)]
    assert text_links and all("lang=fr" in link for link in text_links)
    assert f'href="{settings.SITE_URL}' in html and "lang=fr" in html
    view_booking = text_links[0].rstrip(".,)")
    page = client.get(view_booking.removeprefix(settings.SITE_URL), follow=True)
    assert page.context["LANGUAGE_CODE"] == "fr"


@pytest.mark.django_db
def test_english_emails_keep_their_links_as_they_are(booking, mailoutbox, settings):
    booking_send_confirmation(booking.pk)

    (message,) = mailoutbox
    for part in (message.body, message.alternatives[0][0]):
        assert "?lang=" not in part and "&lang=" not in part and "&amp;lang=" not in part
