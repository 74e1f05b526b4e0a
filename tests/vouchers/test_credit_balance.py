"""Credit from refunds reads as one balance per organiser, and a booking paid from a voucher never
lists a "£0.00 as account credit" refund."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bookings.models import Booking, Refund
from tests.factories import BookingFactory, OrganiserFactory
from tests.vouchers.factories import VoucherFactory, VoucherRedemptionFactory
from vouchers.models import Voucher


def credit(organiser, booker, amount):
    return VoucherFactory(
        organiser=organiser,
        source=Voucher.Source.CREDIT,
        value=amount,
        recipient_email=booker.email,
        buyer=booker,
    )


@pytest.mark.django_db
def test_credit_from_several_refunds_shows_as_one_balance_per_organiser(client_as_booker, booker, organiser):
    organiser.plan = organiser.Plan.STANDARD
    organiser.save()
    first, second = credit(organiser, booker, 1200), credit(organiser, booker, 800)
    elsewhere = OrganiserFactory(slug="elsewhere-yoga", name="Elsewhere Yoga", plan="standard")
    other = credit(elsewhere, booker, 500)
    BookingFactory(organiser=organiser, user=booker)

    html = client_as_booker.get(reverse("vouchers:voucher_list")).content.decode()

    assert html.count("Credit with Riverside") == 1
    assert "£20.00" in html  # 12 + 8, one balance
    assert first.display_code in html and second.display_code in html
    assert "Credit with Elsewhere Yoga" in html and "£5.00" in html
    assert other.display_code in html


@pytest.mark.django_db
def test_a_voucher_paid_cancellation_lists_no_empty_credit_refund(client_as_booker, booker, organiser):
    booking = BookingFactory(
        organiser=organiser,
        user=booker,
        total=0,
        payment_method=Booking.PaymentMethod.VOUCHER,
        status=Booking.Status.CANCELLED,
        cancelled_by=Booking.CancelledBy.BOOKER,
    )
    VoucherRedemptionFactory(organiser=organiser, booking=booking, amount=1200)
    Refund.objects.create(
        organiser=organiser,
        booking=booking,
        reason=Refund.Reason.BOOKER_CANCELLED,
        method="credit",
        amount=0,
        currency="GBP",
        status=Refund.Status.SUCCEEDED,
    )

    html = client_as_booker.get(reverse("bookings:booking_detail", args=[booking.reference])).content.decode()

    assert "£0.00 as account credit" not in " ".join(html.split())
    assert "Refunds" not in html
