"""Nobody who does not control a mailbox gets anything addressed to it.

Bookings, waiting-list places and gift vouchers made for an email follow the account that proves
the address. The sequences below are how someone else's account could be made to prove it: each
attacker sets up an account with the victim's address (and a password of their own) and waits
for the victim to prove it."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from bookings.models import Booking, WaitingListEntry
from tests.factories import PASSWORD, BookingFactory, EventFactory, TicketTypeFactory, UserFactory
from tests.vouchers.factories import VoucherFactory
from vouchers.models import Voucher

pytestmark = pytest.mark.django_db

VICTIM = "victim@example.com"
ATTACKER = "attacker@example.com"
ATTACKERS_PASSWORD = "attackers-own-pass-1"
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


@pytest.fixture
def victims_things(organiser):
    """What was booked, waited for and given to the victim's address before any of this."""
    booking = BookingFactory(organiser=organiser, user=None, booker_email=VICTIM, booker_name="Vicky Victim")
    waiting = WaitingListEntryFactory_for(organiser)
    voucher = VoucherFactory(organiser=organiser, recipient_email=VICTIM, status=Voucher.Status.ACTIVE)
    return booking, waiting, voucher


def WaitingListEntryFactory_for(organiser):  # noqa: N802 (reads as a factory)
    from tests.factories import WaitingListEntryFactory

    return WaitingListEntryFactory(event=EventFactory(organiser=organiser), email=VICTIM, name="Vicky Victim")


def sees(client: Client, booking: Booking, voucher: Voucher) -> set[str]:
    """What of the victim's this client's session shows."""
    seen = set()
    if client.get(reverse("bookings:booking_detail", args=[booking.reference])).status_code == 200:
        seen.add("booking")
    events = client.get(reverse("bookings:event_list") + "?tab=upcoming")
    if events.status_code == 200 and booking.event.title in events.content.decode():
        seen.add("booking in the list")
    vouchers = client.get(reverse("vouchers:voucher_list"))
    if vouchers.status_code == 200 and voucher.display_code in vouchers.content.decode():
        seen.add("voucher code")
    if client.get(reverse("vouchers:voucher_detail", args=[voucher.public_id])).status_code == 200:
        seen.add("voucher")
    return seen


def password_login(email: str, password: str) -> Client:
    client = Client()
    client.post(reverse("account_login"), {"login": email, "password": password})
    return client


def is_logged_in(client: Client) -> bool:
    return client.get(reverse("accounts:account")).status_code == 200


def log_in_by_code(email: str) -> Client:
    client = Client()
    client.post(reverse("account_request_login_code"), {"email": email})
    code = re.search(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", mail.outbox[-1].body, re.M).group(1)
    client.post(reverse("account_confirm_login_code"), {"code": code})
    return client


def confirmation_path(to: str) -> str:
    message = [m for m in mail.outbox if m.to == [to] and "/accounts/confirm-email/" in m.body][-1]
    return re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", message.body).group(1)


def attacker_books_with_an_account_for(event, email: str) -> Client:
    attacker = Client()
    ticket = event.ticket_types.get()
    page = attacker.get(
        reverse("event_book", args=[event.organiser.slug, event.code]), {f"qty_{ticket.pk}": 1}
    )
    attacker.post(
        reverse("event_book", args=[event.organiser.slug, event.code]),
        {
            f"qty_{ticket.pk}": 1,
            "booker_name": "Mal",
            "booker_email": email,
            "attendee_0_name": "Mal",
            "idempotency_key": KEY.search(page.content.decode()).group(1),
            "create_account": "on",
            "password": ATTACKERS_PASSWORD,
        },
    )
    return attacker


@pytest.fixture
def event(organiser):
    event = EventFactory(organiser=organiser, title="Attacker's Class", capacity=10)
    TicketTypeFactory(event=event, price=0)
    return event


def test_a_signup_with_someone_elses_email_gets_nothing_once_they_log_in_by_code(victims_things):
    booking, waiting, voucher = victims_things
    attacker = Client()
    attacker.post(
        reverse("account_signup"),
        {"email": VICTIM, "password1": ATTACKERS_PASSWORD, "password2": ATTACKERS_PASSWORD},
    )

    victim = log_in_by_code(VICTIM)

    assert sees(victim, booking, voucher) >= {"booking", "voucher"}  # hers, now she proved it
    assert sees(attacker, booking, voucher) == set()  # the session the attacker had is over
    later = password_login(VICTIM, ATTACKERS_PASSWORD)
    assert not is_logged_in(later)  # the password chosen before the proof is gone
    assert sees(later, booking, voucher) == set()
    assert not User.objects.get(email=VICTIM).has_usable_password()


def test_an_account_made_on_the_booking_form_for_someone_elses_email_gets_nothing_once_they_confirm(
    event, victims_things
):
    booking, waiting, voucher = victims_things
    attacker = attacker_books_with_an_account_for(event, VICTIM)
    assert is_logged_in(attacker)
    attacker.post(reverse("account_email"), {"email": VICTIM, "action_send": ""})  # "Re-send verification"

    victim = Client()
    victim.post(confirmation_path(VICTIM))  # she clicks Confirm in the email

    assert EmailAddress.objects.get(email=VICTIM).verified
    assert sees(attacker, booking, voucher) == set()
    assert not is_logged_in(attacker)
    later = password_login(VICTIM, ATTACKERS_PASSWORD)
    assert not is_logged_in(later) and sees(later, booking, voucher) == set()
    # The account is hers now, with what was made for her address; its password is gone.
    assert WaitingListEntry.objects.get(pk=waiting.pk).user == User.objects.get(email=VICTIM)
    assert not User.objects.get(email=VICTIM).has_usable_password()


def test_a_gift_voucher_for_someone_elses_email_never_shows_its_code_to_whoever_made_the_account(
    event, victims_things
):
    booking, waiting, voucher = victims_things
    attacker = attacker_books_with_an_account_for(event, VICTIM)
    bought_later = VoucherFactory(
        organiser=event.organiser,
        recipient_email=VICTIM,
        status=Voucher.Status.ACTIVE,
        value=5000,
        balance=5000,
    )
    assert voucher.display_code not in attacker.get(reverse("vouchers:voucher_list")).content.decode()
    attacker.post(reverse("account_email"), {"email": VICTIM, "action_send": ""})

    Client().post(confirmation_path(VICTIM))

    for client in (attacker, password_login(VICTIM, ATTACKERS_PASSWORD)):
        html = client.get(reverse("vouchers:voucher_list")).content.decode()
        assert voucher.display_code not in html and bought_later.display_code not in html
        assert (
            client.get(reverse("vouchers:voucher_detail", args=[bought_later.public_id])).status_code != 200
        )


def test_adding_someone_elses_address_names_the_account_and_claims_nothing_when_they_confirm(
    victims_things, mailoutbox
):
    booking, waiting, voucher = victims_things
    owner = UserFactory(email=ATTACKER, name="Mal Attacker")
    EmailAddress.objects.create(user=owner, email=ATTACKER, primary=True, verified=True)
    attacker = password_login(ATTACKER, PASSWORD)
    asked = attacker.post(reverse("account_email"), {"email": VICTIM, "action_add": ""})
    if asked.status_code == 302 and asked.url.startswith(reverse("account_reauthenticate")):
        attacker.post(asked.url, {"password": PASSWORD})

    victim = Client()
    page = victim.get(confirmation_path(VICTIM))
    html = page.content.decode()

    assert page.status_code == 200
    assert ATTACKER in html and "Mal Attacker" in html  # whose account the address would join
    assert "for user user" not in html
    victim.post(confirmation_path(VICTIM))
    booking.refresh_from_db()
    waiting.refresh_from_db()
    assert booking.user is None and waiting.user is None  # nothing attached by the confirmation
    assert sees(attacker, booking, voucher) == set()


def test_whoever_made_the_account_on_the_booking_form_and_confirms_in_the_same_browser_keeps_the_password(
    event, victims_things
):
    booking, waiting, voucher = victims_things
    browser = attacker_books_with_an_account_for(event, VICTIM)  # here the address's owner herself
    browser.post(reverse("account_email"), {"email": VICTIM, "action_send": ""})

    browser.post(confirmation_path(VICTIM))

    assert User.objects.get(email=VICTIM).check_password(ATTACKERS_PASSWORD)
    assert is_logged_in(browser) and sees(browser, booking, voucher) >= {"booking", "voucher"}


def test_a_signup_confirmed_in_the_same_browser_keeps_its_password_and_gets_what_was_made_for_it(
    victims_things,
):
    booking, waiting, voucher = victims_things
    browser = Client()
    browser.post(
        reverse("account_signup"),
        {"email": VICTIM, "password1": ATTACKERS_PASSWORD, "password2": ATTACKERS_PASSWORD},
    )

    browser.post(confirmation_path(VICTIM))

    user = User.objects.get(email=VICTIM)
    assert user.check_password(ATTACKERS_PASSWORD)
    booking.refresh_from_db()
    waiting.refresh_from_db()
    assert booking.user == user and waiting.user == user
    assert sees(password_login(VICTIM, ATTACKERS_PASSWORD), booking, voucher) >= {"booking", "voucher"}


def test_another_bookers_pending_claim_cannot_be_attached(victims_things, booker, other_booker):
    from accounts.models import PendingClaim

    booking, waiting, voucher = victims_things
    EmailAddress.objects.create(user=other_booker, email=VICTIM, verified=True)
    claim = PendingClaim.objects.create(user=other_booker, email=VICTIM)
    client = Client()
    client.force_login(booker)

    assert client.post(reverse("accounts:account_claim", args=[claim.code])).status_code == 404
    booking.refresh_from_db()
    assert booking.user is None and PendingClaim.objects.filter(pk=claim.pk).exists()
