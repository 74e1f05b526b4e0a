"""Updating the email: the new address is verified before it becomes the login; bookings follow."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.urls import reverse

from accounts.models import User
from bookings.models import Booking
from tests.factories import PASSWORD, BookingFactory

OLD = "booker@example.com"
NEW = "new.address@example.com"


@pytest.fixture
def verified_booker(booker):
    EmailAddress.objects.create(user=booker, email=OLD, primary=True, verified=True)
    return booker


def log_in(email=OLD, password=PASSWORD) -> Client:
    client = Client()
    client.post(reverse("account_login"), {"login": email, "password": password})
    return client


def is_logged_in(client: Client) -> bool:
    return client.get(reverse("accounts:account")).status_code == 200


def confirmation_link(mailoutbox, to: str) -> str:
    message = next(m for m in mailoutbox if m.to == [to])
    return re.search(r"https?://\S+(/accounts/confirm-email/\S+/)", message.body).group(1)


def ask_for_change(client: Client, email=NEW):
    """The change form, then (as allauth asks before changing an address) the password again."""
    response = client.post(reverse("account_email"), {"email": email, "action_add": ""})
    if response.status_code == 302 and response.url.startswith(reverse("account_reauthenticate")):
        response = client.post(response.url, {"password": PASSWORD})
    return response


@pytest.mark.django_db
def test_asking_for_a_new_address_sends_a_verification_there_and_keeps_the_old_login(
    verified_booker, mailoutbox
):
    client = log_in()

    response = ask_for_change(client)

    assert response.status_code == 302
    assert mailoutbox[-1].to == [NEW]
    verified_booker.refresh_from_db()
    assert verified_booker.email == OLD
    assert EmailAddress.objects.get(email=NEW).verified is False


@pytest.mark.django_db
def test_an_unverified_address_cannot_log_in(verified_booker, mailoutbox):
    ask_for_change(log_in())

    assert not is_logged_in(log_in(NEW))  # by password
    sent = len(mailoutbox)
    Client().post(reverse("account_request_login_code"), {"email": NEW})
    assert not any("code" in m.subject.lower() for m in mailoutbox[sent:])  # no login code is sent
    Client().post(reverse("account_reset_password"), {"email": NEW})
    assert not any("/accounts/password/reset/key/" in m.body for m in mailoutbox[sent:])  # nor a reset link
    assert is_logged_in(log_in(OLD))


@pytest.mark.django_db
def test_an_unverified_address_does_not_receive_bookings(verified_booker, organiser, mailoutbox):
    ask_for_change(log_in())
    made_with_new = BookingFactory(organiser=organiser, user=None, booker_email=NEW)

    made_with_new.refresh_from_db()
    assert made_with_new.user is None
    client = log_in()
    detail = reverse("bookings:booking_detail", args=[made_with_new.reference])
    assert client.get(detail).status_code == 404


@pytest.mark.django_db
def test_once_verified_the_new_address_is_the_login_and_its_bookings_wait_to_be_attached(
    verified_booker, organiser, mailoutbox
):
    # Confirming a new address no longer hands over what was made with it: the owner sees what was
    # found on the Account page and attaches it (tests/security/test_email_claims.py says why).
    mine = BookingFactory(organiser=organiser, user=verified_booker, booker_email=OLD)
    client = log_in()
    ask_for_change(client)
    made_with_new = BookingFactory(organiser=organiser, user=None, booker_email=NEW)

    response = client.post(confirmation_link(mailoutbox, NEW))

    assert response.status_code == 302
    user = User.objects.get(pk=verified_booker.pk)
    assert user.email == NEW
    assert list(EmailAddress.objects.filter(user=user).values_list("email", "verified", "primary")) == [
        (NEW, True, True)
    ]
    assert set(user.bookings.values_list("pk", flat=True)) == {mine.pk}  # nothing joined yet
    assert is_logged_in(log_in(NEW))  # the password the owner chose stays: the old address was proved
    assert not is_logged_in(log_in(OLD))

    page = client.get(reverse("accounts:account")).content.decode()
    assert f"Found for {NEW}" in page and made_with_new.reference in page
    claim = user.pending_claims.get()
    client.post(reverse("accounts:account_claim", args=[claim.code]))

    assert set(user.bookings.values_list("pk", flat=True)) == {mine.pk, made_with_new.pk}
    assert not user.pending_claims.exists()
    assert f"Found for {NEW}" not in client.get(reverse("accounts:account")).content.decode()


@pytest.mark.django_db
def test_a_new_address_with_nothing_made_for_it_has_nothing_to_attach(verified_booker, mailoutbox):
    client = log_in()
    ask_for_change(client)

    client.post(confirmation_link(mailoutbox, NEW))

    assert not verified_booker.pending_claims.exists()


@pytest.mark.django_db
def test_vouchers_sent_to_the_new_address_show_once_attached(verified_booker, organiser, mailoutbox):
    from tests.vouchers.factories import VoucherFactory

    voucher = VoucherFactory(organiser=organiser, recipient_email=NEW, status="active")
    client = log_in()
    ask_for_change(client)
    client.post(confirmation_link(mailoutbox, NEW))

    assert voucher.display_code not in client.get(reverse("vouchers:voucher_list")).content.decode()
    client.post(reverse("accounts:account_claim", args=[verified_booker.pending_claims.get().code]))
    assert voucher.display_code in client.get(reverse("vouchers:voucher_list")).content.decode()


@pytest.mark.django_db
def test_the_old_address_is_told_about_the_change(verified_booker, mailoutbox):
    client = log_in()
    ask_for_change(client)

    client.post(confirmation_link(mailoutbox, NEW))

    notice = mailoutbox[-1]
    assert notice.to == [OLD]
    assert NEW in notice.body


@pytest.mark.django_db
def test_confirming_lands_back_on_the_account_page(verified_booker, mailoutbox):
    client = log_in()
    ask_for_change(client)

    response = client.post(confirmation_link(mailoutbox, NEW))

    assert response.url == reverse("accounts:account")


@pytest.mark.django_db
def test_changing_the_address_asks_for_the_password_first(verified_booker, mailoutbox):
    client = log_in()

    response = client.post(reverse("account_email"), {"email": NEW, "action_add": ""})

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_reauthenticate"))
    assert not EmailAddress.objects.filter(email=NEW).exists()
    client.post(response.url, {"password": "not-it"})
    assert not EmailAddress.objects.filter(email=NEW).exists()
    client.post(response.url, {"password": PASSWORD})  # carries on with the change asked for
    assert EmailAddress.objects.filter(user=verified_booker, email=NEW, verified=False).exists()


@pytest.fixture
def code_only_booker(booker):
    """A booker who logs in with emailed codes: no password, and the address the codes went to is proven."""
    booker.set_unusable_password()
    booker.save()
    EmailAddress.objects.create(user=booker, email=OLD, primary=True, verified=True)
    return booker


def emailed_code(mailoutbox, to: str) -> str:
    message = [m for m in mailoutbox if m.to == [to]][-1]
    return re.search(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", message.body, re.M).group(1)


@pytest.mark.django_db
def test_a_booker_without_a_password_can_change_the_address(client, code_only_booker, mailoutbox):
    client.force_login(code_only_booker)  # they log in with a code: there is no password to ask for

    response = client.post(reverse("account_email"), {"email": NEW, "action_add": ""})
    assert response.status_code == 302
    # No password to ask for: allauth proves it is them with a code sent to the login address instead.
    assert response.url.startswith(reverse("account_request_reauthentication_code"))
    response = client.post(response.url, {"recipient": OLD})
    response = client.post(response.url, {"code": emailed_code(mailoutbox, OLD)})

    assert response.status_code == 302
    assert EmailAddress.objects.filter(user=code_only_booker, email=NEW, verified=False).exists()
    assert Booking.objects.filter(user=code_only_booker).count() == 0


@pytest.mark.django_db
def test_a_booker_without_a_password_proves_it_is_them_with_a_code_before_the_change(
    client, code_only_booker, mailoutbox
):
    client.force_login(code_only_booker)
    asked = client.post(reverse("account_email"), {"email": NEW, "action_add": ""})
    sent = client.post(asked.url, {"recipient": OLD})

    assert mailoutbox[-1].to == [OLD]  # the code goes to the address they already log in with
    client.post(sent.url, {"code": "AAAA-AAAA"})
    assert not EmailAddress.objects.filter(email=NEW).exists()  # a wrong code changes nothing
    client.post(sent.url, {"code": emailed_code(mailoutbox, OLD)})
    assert EmailAddress.objects.filter(user=code_only_booker, email=NEW, verified=False).exists()
    code_only_booker.refresh_from_db()
    assert code_only_booker.email == OLD  # still the login until NEW is confirmed


@pytest.mark.django_db
def test_an_account_made_while_booking_is_sent_a_confirmation_and_keeps_its_address_through_a_change(
    organiser, mailoutbox
):
    """Made on the booking form, its address not confirmed yet, then Update email: the old address
    stays the login until the new one is confirmed (a typo must never lock the booker out)."""
    from tests.bookings.test_public_booking import book_url, details
    from tests.factories import EventFactory, TicketTypeFactory

    event = EventFactory(organiser=organiser)
    TicketTypeFactory(event=event, name="Adult", price=0)
    client = Client()
    client.post(
        book_url(event),
        details(
            event, quantities={"Adult": 1}, attendees=[("Bea", False)], create_account="on", password=PASSWORD
        ),
    )
    assert any(m.to == ["bea@example.com"] and "/accounts/confirm-email/" in m.body for m in mailoutbox)

    ask_for_change(client, "typo@exmaple.com")

    user = User.objects.get()
    assert user.email == "bea@example.com"
    page = client.get(reverse("accounts:account")).content.decode()
    assert "You log in with <strong>bea@example.com</strong>" in page
    assert "typo@exmaple.com" in page
    # The old address still gets a login code, and the code logs in.
    other = Client()
    other.post(reverse("account_request_login_code"), {"email": "bea@example.com"})
    code = re.search(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", mailoutbox[-1].body, re.M).group(1)
    other.post(reverse("account_confirm_login_code"), {"code": code})
    assert is_logged_in(other)
