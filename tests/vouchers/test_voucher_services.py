"""Vouchers: codes, buying, issuing, credit from refunds, spending at booking in exact minor
units, refusals, and giving the balance back once."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from bookings import services as booking_services
from bookings.models import Booking, BookingRules, Refund
from bookings.services import refund_pay
from tests.factories import BookingFactory, EventFactory, RefundFactory, TicketTypeFactory
from tests.vouchers.factories import VoucherFactory
from vouchers import services
from vouchers.models import CODE_ALPHABET, CODE_LENGTH, Voucher, VoucherRedemption, new_code
from vouchers.services import VoucherError

pytestmark = pytest.mark.django_db


def book(event, *, voucher_code="", tickets=1, key="k", user=None):
    ticket = event.ticket_types.first()
    return booking_services.booking_create(
        request=booking_services.BookingRequest(
            event=event,
            booker=booking_services.Booker(name="Bea Booker", email="bea@example.com", user=user),
            tickets=[
                booking_services.TicketRequest(ticket_type=ticket, attendee_name=f"A{i}")
                for i in range(tickets)
            ],
            idempotency_key=key,
            voucher_code=voucher_code,
        )
    )


@pytest.fixture
def event(organiser):
    event = EventFactory(organiser=organiser)
    TicketTypeFactory(event=event, price=1999)
    return event


def test_codes_carry_at_least_80_random_bits():
    assert len(set(CODE_ALPHABET)) == 32
    assert CODE_LENGTH * math.log2(len(set(CODE_ALPHABET))) >= 80
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == CODE_LENGTH and set(c) <= set(CODE_ALPHABET) for c in codes)
    # Every symbol turns up: the generator draws from the whole alphabet.
    assert set("".join(codes)) == set(CODE_ALPHABET)


def test_buying_a_voucher_offline_activates_it_and_emails_the_code_to_the_recipient_once(
    organiser, booker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        purchase = services.voucher_buy(
            user=booker,
            organiser=organiser,
            value=2500,
            recipient_name="Rae",
            recipient_email="Rae@Example.com",
            message="Happy birthday!",
            success_url="/ok",
            cancel_url="/no",
            idempotency_key="gift-1",
        )
    voucher = purchase.voucher
    assert voucher.status == Voucher.Status.ACTIVE and voucher.source == Voucher.Source.BOUGHT
    assert (voucher.value, voucher.balance, voucher.currency) == (2500, 2500, "GBP")
    assert voucher.expires_at > timezone.now() + timedelta(days=360)
    # The code to the recipient; the buyer's receipt (tests/vouchers/test_voucher_purchase_email.py).
    (code_email,) = [m for m in mail.outbox if m.to == ["rae@example.com"]]
    assert voucher.display_code in code_email.body and "Happy birthday!" in code_email.body
    assert len(mail.outbox) == 2

    from vouchers.emails import voucher_send_code

    assert voucher_send_code(voucher_id=voucher.pk) is False  # a retried task sends nothing more
    with django_capture_on_commit_callbacks(execute=True):
        again = services.voucher_buy(
            user=booker,
            organiser=organiser,
            value=2500,
            recipient_name="Rae",
            recipient_email="rae@example.com",
            success_url="/ok",
            cancel_url="/no",
            idempotency_key="gift-1",
        )
    assert again.voucher.pk == voucher.pk and len(mail.outbox) == 2


def test_a_free_plan_organiser_sells_no_vouchers(organiser, booker):
    organiser.plan = organiser.Plan.FREE
    organiser.save()
    with pytest.raises(VoucherError, match="doesn't sell gift vouchers"):
        services.voucher_buy(
            user=booker,
            organiser=organiser,
            value=2500,
            recipient_name="Rae",
            recipient_email="",
            success_url="/",
            cancel_url="/",
            idempotency_key="x",
        )


def test_a_voucher_pays_part_of_a_booking_and_the_rest_is_left_for_the_card(organiser, event):
    voucher = VoucherFactory(organiser=organiser, value=2500, balance=1234)

    booking = book(event, voucher_code=voucher.display_code.lower(), tickets=2)  # 3998 due

    voucher.refresh_from_db()
    assert voucher.balance == 0
    assert VoucherRedemption.objects.get(booking=booking).amount == 1234
    assert booking.total == 3998 - 1234 == 2764
    assert (booking.status, booking.payment_method) == (Booking.Status.PENDING, Booking.PaymentMethod.CARD)


def test_a_voucher_worth_more_than_the_booking_pays_it_all_and_keeps_the_rest(organiser, event):
    voucher = VoucherFactory(organiser=organiser, value=5000)

    booking = book(event, voucher_code=voucher.code)

    voucher.refresh_from_db()
    assert voucher.balance == 5000 - 1999 == 3001
    assert (booking.total, booking.status, booking.payment_method) == (0, "confirmed", "voucher")


def test_member_discount_comes_off_before_the_voucher_pays(organiser, booker, event):
    from tests.memberships.factories import MembershipFactory

    MembershipFactory(organiser=organiser, user=booker, plan__discount_percent=15)
    voucher = VoucherFactory(organiser=organiser, value=1000)

    booking = book(event, voucher_code=voucher.code, user=booker)

    # 1999 less 15% rounded down to the minor unit (299) = 1700, less the voucher's 1000.
    assert (booking.discount, booking.total) == (299, 700)
    assert Voucher.objects.get(pk=voucher.pk).balance == 0


@pytest.mark.parametrize(
    "change,message",
    [
        ({"expires_at": timezone.now() - timedelta(minutes=1)}, "expired on"),
        ({"balance": 0}, "used up"),
        ({"status": Voucher.Status.VOID}, "cancelled"),
        ({"status": Voucher.Status.PENDING}, "hasn't been paid"),
    ],
)
def test_a_voucher_that_cannot_pay_is_refused_with_its_reason(organiser, event, change, message):
    voucher = VoucherFactory(organiser=organiser, **change)

    with pytest.raises(VoucherError, match=message):
        book(event, voucher_code=voucher.code)
    assert not Booking.objects.filter(event=event).exists()


def test_another_organisers_voucher_and_unknown_codes_are_refused(organiser, other_organiser, event):
    theirs = VoucherFactory(organiser=other_organiser)

    with pytest.raises(VoucherError, match="This voucher is for Elsewhere"):
        book(event, voucher_code=theirs.code)
    with pytest.raises(VoucherError, match="We don't know that voucher code"):
        book(event, voucher_code="AAAA-BBBB-CCCC-DDDD")
    assert Voucher.objects.get(pk=theirs.pk).balance == theirs.value


def test_returning_a_voucher_payment_puts_it_back_once(organiser, event):
    voucher = VoucherFactory(organiser=organiser, value=5000)
    booking = book(event, voucher_code=voucher.code)

    assert services.voucher_return(booking=booking) == 1999
    assert services.voucher_return(booking=booking) == 0
    assert Voucher.objects.get(pk=voucher.pk).balance == 5000


def test_returning_can_keep_a_cancellation_fee(organiser, event):
    voucher = VoucherFactory(organiser=organiser, value=5000)
    booking = book(event, voucher_code=voucher.code)

    assert services.voucher_return(booking=booking, keep=500) == 1499
    assert Voucher.objects.get(pk=voucher.pk).balance == 5000 - 1999 + 1499


def test_an_organiser_issues_a_voucher_and_its_code_is_emailed(organiser, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        voucher = services.voucher_issue(
            organiser=organiser, value=1500, recipient_name="Kim", recipient_email="kim@example.com"
        )
    assert (voucher.source, voucher.status, voucher.balance) == ("issued", "active", 1500)
    assert mail.outbox[0].to == ["kim@example.com"] and voucher.display_code in mail.outbox[0].body


def test_a_refund_as_account_credit_becomes_a_voucher_once(
    organiser, booker, django_capture_on_commit_callbacks
):
    booking = BookingFactory(organiser=organiser, user=booker, booker_email=booker.email, total=2450)
    refund = RefundFactory(booking=booking, method=BookingRules.RefundMethod.CREDIT, amount=2200)

    with django_capture_on_commit_callbacks(execute=True):
        refund_pay(refund=refund)
        refund_pay(refund=refund)

    voucher = Voucher.objects.get(refund=refund)
    assert (voucher.source, voucher.value, voucher.balance, voucher.buyer) == ("credit", 2200, 2200, booker)
    assert Refund.objects.get(pk=refund.pk).status == Refund.Status.SUCCEEDED
    assert services.voucher_issue_for_credit(refund=refund).pk == voucher.pk
    assert Voucher.objects.count() == 1
    assert [m.to for m in mail.outbox] == [[booker.email]]


def test_a_partly_voucher_paid_booking_whose_checkout_expired_gets_the_voucher_back(organiser, event):
    voucher = VoucherFactory(organiser=organiser, value=1000)
    booking = book(event, voucher_code=voucher.code)
    session = {"id": "cs_x", "mode": "payment", "metadata": {"booking": booking.reference}}

    booking_services.booking_checkout_event("checkout.session.expired", session)
    services.voucher_checkout_event("checkout.session.expired", session)

    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CANCELLED
    assert Voucher.objects.get(pk=voucher.pk).balance == 1000
