"""A booker gives a ticket to someone else: a signed accept link that runs out, withdrawable
until accepted; on accept the ticket is the recipient's own booking; no money moves."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bookings import emails, links, services
from bookings.exceptions import BookingError
from bookings.models import Attendee, Booking, BookingRules, Event, TicketGift
from tests.factories import AttendeeFactory, EventFactory, TicketGiftFactory, TicketTypeFactory
from tests.helpers import in_days, paid_booking, rules

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(organiser, booker):
    """Bea (£20) and Kim (£10) on one £30 card booking; gifts allowed until 24 h before."""
    event = EventFactory(organiser=organiser, title="Family yoga", starts_at=in_days(5), capacity=10)
    rules(event, gift_cutoff_hours=24)
    adult = TicketTypeFactory(event=event, name="Adult", price=2000)
    booking = paid_booking(adult, total=3000, user=booker, booker_email=booker.email)
    booking.attendees.update(name="Bea")
    AttendeeFactory(
        booking=booking, ticket_type=TicketTypeFactory(event=event, name="Child", price=1000), name="Kim"
    )
    return booking


def kim(booking):
    return booking.attendees.get(name="Kim")


def give(booking, key="gift-1", **extra):
    fields = {
        "attendee_id": kim(booking).pk,
        "recipient_name": "Ola Friend",
        "recipient_email": "ola@example.net",
    }
    return services.ticket_gift_create(booking=booking, idempotency_key=key, **{**fields, **extra})


def accept_link(message) -> str:
    return re.search(r"https?://[^/\s]+(/portal/gift/[^\s]+/)", message.body).group(1)


def test_the_recipient_is_emailed_a_link_and_accepting_makes_the_ticket_their_own_booking(
    family, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        gift = give(family)
    (offer,) = mailoutbox
    assert offer.to == ["ola@example.net"]
    assert offer.subject.endswith("is giving you a ticket for Family yoga")
    ola = Client()
    page = ola.get(accept_link(offer))
    assert "Accept the ticket" in page.content.decode()
    seats = Event.objects.get(pk=family.event_id).seats_taken

    with django_capture_on_commit_callbacks(execute=True):
        accepted = ola.post(accept_link(offer))

    gift.refresh_from_db()
    new = gift.new_booking
    assert gift.status == TicketGift.Status.ACCEPTED
    assert accepted["Location"] == reverse("bookings:booking_detail", args=[new.reference])
    assert (new.booker_name, new.booker_email, new.status, new.user) == (
        "Ola Friend",
        "ola@example.net",
        Booking.Status.CONFIRMED,
        None,
    )
    assert [a.name for a in new.attendees.all()] == ["Ola Friend"]
    family.refresh_from_db()
    assert [a.name for a in family.attendees.all()] == ["Bea"]
    assert (family.total, new.total) == (2000, 1000)  # the ticket's share went with it, nothing paid
    assert Event.objects.get(pk=family.event_id).seats_taken == seats
    confirmation = mailoutbox[1]
    assert confirmation.to == ["ola@example.net"] and new.reference in confirmation.subject
    assert "/portal/link/" in confirmation.body  # their own View booking link
    assert ola.get(accepted["Location"]).status_code == 200  # this browser holds the new booking


def test_the_giver_is_emailed_once_when_the_recipient_accepts(
    family, booker, mailoutbox, django_capture_on_commit_callbacks
):
    gift = give(family)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_gift_accept(gift=gift)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_gift_accept(gift=gift)  # accepted twice (a double click): told once

    told = [m for m in mailoutbox if m.to == [booker.email]]
    assert len(told) == 1
    (message,) = told
    assert message.subject == "Ola Friend accepted your ticket for Family yoga"
    assert "Ola Friend accepted the ticket you gave them (Kim (Child))" in message.body
    assert f"Your booking {family.reference} keeps:\n- Bea (Adult)" in message.body
    assert "/portal/link/" in message.body  # their own View booking link
    assert "Kim (Child)" in message.alternatives[0][0]
    assert emails.ticket_gift_send_accepted(gift_id=gift.pk) is False  # the task again: nothing
    assert len([m for m in mailoutbox if m.to == [booker.email]]) == 1


def test_the_giver_is_told_in_their_own_language(
    family, booker, mailoutbox, django_capture_on_commit_callbacks
):
    booker.language = "fr"
    booker.save(update_fields=["language"])
    family.organiser.default_language = "de"
    family.organiser.save(update_fields=["default_language"])
    gift = give(family)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_gift_accept(gift=gift)

    (told,) = [m for m in mailoutbox if m.to == [booker.email]]
    assert "Voir votre réservation" in told.body
    assert "lang=fr" in told.body


def test_a_giver_who_gave_their_last_ticket_is_told_the_booking_is_closed(
    family, booker, mailoutbox, django_capture_on_commit_callbacks
):
    family.attendees.filter(name="Bea").delete()
    gift = give(family)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_gift_accept(gift=gift)

    (told,) = [m for m in mailoutbox if m.to == [booker.email]]
    assert "That was the last ticket of your booking" in told.body
    assert "closed as given away" in told.body


def test_no_giver_email_for_an_offer_that_was_not_accepted(family, booker, mailoutbox):
    gift = give(family)
    services.ticket_gift_withdraw(gift=gift)

    assert emails.ticket_gift_send_accepted(gift_id=gift.pk) is False
    assert not [m for m in mailoutbox if m.to == [booker.email]]


def test_the_giver_can_withdraw_until_accepted_and_the_link_then_stops_working(
    family, client_as_booker, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        gift = give(family)
    link = accept_link(mailoutbox[0])
    url = reverse("bookings:gift_withdraw", args=[family.reference, gift.code])

    assert client_as_booker.post(url).status_code == 302
    assert client_as_booker.post(url).status_code == 302  # twice is harmless

    gift.refresh_from_db()
    assert gift.status == TicketGift.Status.WITHDRAWN
    response = Client().post(link)
    assert response.status_code == 409
    assert kim(family).booking_id == family.pk


def test_an_accepted_ticket_cannot_be_withdrawn(family):
    gift = give(family)
    services.ticket_gift_accept(gift=gift)

    with pytest.raises(BookingError, match="has already accepted this ticket"):
        services.ticket_gift_withdraw(gift=gift)


def test_accepting_twice_makes_one_booking(family):
    gift = give(family)
    services.ticket_gift_accept(gift=gift)
    services.ticket_gift_accept(gift=gift)
    assert Booking.objects.count() == 2


def test_an_offer_runs_out(family):
    gift = give(family)
    TicketGift.objects.filter(pk=gift.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    with pytest.raises(BookingError, match="can no longer be accepted"):
        services.ticket_gift_accept(gift=gift)
    assert Booking.objects.count() == 1


def test_an_offer_that_runs_out_is_closed_and_the_giver_told_once(
    family, booker, client_as_booker, mailoutbox, django_capture_on_commit_callbacks
):
    gift = give(family)
    TicketGift.objects.filter(pk=gift.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert services.ticket_gifts_expire_due() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert services.ticket_gifts_expire_due() == 0  # the next run: nothing more

    gift.refresh_from_db()
    assert gift.status == TicketGift.Status.EXPIRED
    (told,) = [m for m in mailoutbox if m.to == [booker.email]]
    assert told.subject == "Your ticket for Family yoga was not accepted: it is still yours"
    assert "Ola Friend did not accept the ticket you offered them (Kim (Child))" in told.body
    assert f"The ticket stays on your booking {family.reference}" in told.body
    assert emails.ticket_gift_send_expired(gift_id=gift.pk) is False
    assert kim(family).booking_id == family.pk
    dialog = client_as_booker.get(reverse("bookings:booking_give", args=[family.reference]))
    assert "not accepted in time" in dialog.content.decode()


def test_closing_run_out_offers_leaves_open_accepted_and_withdrawn_ones(family, booker, mailoutbox):
    open_offer = give(family)
    bea = family.attendees.get(name="Bea")
    withdrawn = give(family, key="gift-2", attendee_id=bea.pk, recipient_email="al@example.net")
    services.ticket_gift_withdraw(gift=withdrawn)
    TicketGift.objects.filter(pk=withdrawn.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    assert services.ticket_gifts_expire_due() == 0

    statuses = dict(TicketGift.objects.values_list("pk", "status"))
    assert statuses == {open_offer.pk: TicketGift.Status.PENDING, withdrawn.pk: TicketGift.Status.WITHDRAWN}
    assert not [m for m in mailoutbox if m.to == [booker.email]]


def test_the_offer_runs_out_at_the_rules_cut_off(family):
    gift = give(family)
    assert gift.expires_at == family.event.starts_at - timedelta(hours=24)


def test_without_the_rule_gifts_are_off_and_manage_says_why(family, client_as_booker):
    BookingRules.objects.filter(event=family.event).update(gift_cutoff_hours=None)

    with pytest.raises(BookingError, match="doesn't let bookers give tickets away"):
        give(family)
    manage = client_as_booker.get(
        reverse("bookings:booking_manage", args=[family.reference])
    ).content.decode()
    assert "doesn&#x27;t let bookers give tickets away" in manage


def test_after_the_cut_off_gifts_are_closed(family):
    Event.objects.filter(pk=family.event_id).update(starts_at=timezone.now() + timedelta(hours=23))
    family.refresh_from_db()
    with pytest.raises(BookingError, match="closes 24 hours before"):
        give(family)


def test_one_open_offer_per_ticket_and_never_to_oneself(family, booker):
    give(family)
    with pytest.raises(BookingError, match="already offered to Ola Friend"):
        give(family, key="again", recipient_email="someone@example.net")
    bea = family.attendees.get(name="Bea")
    with pytest.raises(BookingError, match="give the ticket to someone else"):
        give(family, key="self", attendee_id=bea.pk, recipient_email=booker.email.upper())


def test_cancelling_the_ticket_withdraws_its_offer(family, django_capture_on_commit_callbacks):
    rules_ = BookingRules.objects.get(event=family.event)
    rules_.cancellations_allowed = True
    rules_.save()
    gift = give(family)

    with django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel(booking=family, ticket_ids=[kim(family).pk], idempotency_key="c")

    gift.refresh_from_db()
    assert gift.status == TicketGift.Status.WITHDRAWN
    with pytest.raises(BookingError):
        services.ticket_gift_accept(gift=gift)


def test_giving_away_the_last_ticket_closes_the_givers_booking(organiser, booker):
    event = EventFactory(organiser=organiser, starts_at=in_days(5))
    rules(event, gift_cutoff_hours=0)
    booking = paid_booking(TicketTypeFactory(event=event, price=1500), user=booker, booker_email=booker.email)
    gift = services.ticket_gift_create(
        booking=booking,
        attendee_id=booking.attendees.get().pk,
        recipient_name="Ola",
        recipient_email="ola@example.net",
        idempotency_key="k",
    )

    services.ticket_gift_accept(gift=gift)

    booking.refresh_from_db()
    assert (booking.status, booking.cancelled_by, booking.total) == (Booking.Status.CANCELLED, "given", 0)
    assert not booking.refunds.exists()


def test_the_give_dialog_without_javascript_and_with_htmx(family, client_as_booker, htmx, mailoutbox):
    url = reverse("bookings:booking_give", args=[family.reference])
    page = client_as_booker.get(url).content.decode()
    assert "Which ticket?" in page and "Kim (Child)" in page
    invalid = client_as_booker.post(
        url, {"ticket": kim(family).pk, "recipient_email": "x", "idempotency_key": "k"}, **htmx
    )
    assert invalid.status_code == 200 and "Enter a valid email address." in invalid.content.decode()
    assert "<html" not in invalid.content.decode()

    data = {
        "ticket": kim(family).pk,
        "recipient_name": "Ola",
        "recipient_email": "ola@example.net",
        "idempotency_key": "k",
    }
    sent = client_as_booker.post(url, data)
    again = client_as_booker.post(url, data)  # a double click

    assert sent.status_code == again.status_code == 302
    assert TicketGift.objects.count() == 1
    after = client_as_booker.get(url).content.decode()
    assert "Ola (ola@example.net)" in after and "Withdraw" in after


def test_a_tampered_accept_link_is_not_found(family):
    assert Client().get(reverse("bookings:gift_accept", args=["nonsense"])).status_code == 404
    gift = give(family)
    token = links.gift_accept_url(gift).rsplit("/", 2)[-2]
    assert Client().get(reverse("bookings:gift_accept", args=[token[:-2] + "xx"])).status_code == 404


def test_a_ticket_paid_with_a_pass_or_voucher_cannot_be_given(family):
    Booking.objects.filter(pk=family.pk).update(payment_method=Booking.PaymentMethod.VOUCHER)
    family.refresh_from_db()
    with pytest.raises(BookingError, match="paid with a pass or gift voucher"):
        give(family)
    assert Attendee.objects.filter(booking=family).count() == 2


def test_deleting_the_givers_account_leaves_no_names_in_their_offers(family, booker):
    from accounts import services as accounts
    from tests.factories import PASSWORD

    gift = give(family)

    accounts.account_delete(user=booker, password=PASSWORD)

    gift.refresh_from_db()
    assert "Kim" not in gift.ticket_label


def test_another_bookings_ticket_cannot_be_given_from_your_booking(
    family, client_as_booker, other_booker, mailoutbox
):
    stranger = AttendeeFactory(booking__user=other_booker, booking__status=Booking.Status.CONFIRMED)
    data = {
        "ticket": stranger.pk,
        "recipient_name": "Ola",
        "recipient_email": "ola@example.net",
        "idempotency_key": "k",
    }

    response = client_as_booker.post(reverse("bookings:booking_give", args=[family.reference]), data)

    assert response.status_code == 200  # the form again, with its error
    assert not TicketGift.objects.exists() and mailoutbox == []


def test_your_booking_cannot_withdraw_another_bookings_gift(family, client_as_booker, other_booker):
    theirs = AttendeeFactory(booking__user=other_booker, booking__status=Booking.Status.CONFIRMED)
    gift = TicketGiftFactory(booking=theirs.booking, organiser=theirs.booking.organiser, attendee=theirs)

    response = client_as_booker.post(reverse("bookings:gift_withdraw", args=[family.reference, gift.code]))

    gift.refresh_from_db()
    assert response.status_code == 404 and gift.status == TicketGift.Status.PENDING
