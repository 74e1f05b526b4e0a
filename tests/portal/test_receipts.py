"""Receipts (portal.receipts): a page and a PDF made from one template, for every booking
payment, pass, gift voucher and membership invoice, shown only to their owner."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pypdf
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from bookings import links
from bookings.models import Booking, BookingRules, Refund
from portal import receipts
from tests.factories import (
    AttendeeFactory,
    BookingFactory,
    EventFactory,
    OrganiserFactory,
    RefundFactory,
    UserFactory,
)
from tests.memberships.factories import MembershipFactory, MembershipInvoiceFactory
from tests.passes.factories import PassFactory
from tests.vouchers.factories import VoucherFactory
from vouchers.models import Voucher


@pytest.fixture(autouse=True)
def _in_english():
    # What the services write (a contract's description, an error) is in the active language;
    # another test's request may have left one active.
    with translation.override("en-gb"):
        yield


def pdf_text(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body.startswith(b"%PDF"), body[:20]
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(body)).pages)


def receipt_urls(kind: str, ident) -> tuple[str, str]:
    return receipts.receipt_url(kind, ident), receipts.receipt_pdf_url(kind, ident)


def a_seller():
    return OrganiserFactory(
        name="Riverside Yoga",
        legal_name="Riverside Yoga Studio Ltd",
        address="1 Towpath\nLondon E1 1AA",
        vat_number="GB123456789",
        vat_rate_percent=20,
    )


# One object of each kind, owned by `owner`: what the crossing tests below walk.
def _booking(owner, organiser=None):
    organiser = organiser or OrganiserFactory()
    booking = BookingFactory(
        organiser=organiser,
        user=owner,
        booker_email=owner.email,
        booker_name="Ada Booker",
        status=Booking.Status.CONFIRMED,
        total=1200,
        payment_reference="offline_pay_abc",
        event=EventFactory(organiser=organiser, title="Morning Flow"),
    )
    AttendeeFactory(
        booking=booking, name="Ada Booker", price=1200, ticket_type__price=1200, ticket_type__name="Adult"
    )
    return booking, booking.reference


def _pass(owner, organiser=None):
    pass_ = PassFactory(
        user=owner,
        organiser=organiser or OrganiserFactory(),
        pass_type__name="Ten classes",
        price=9000,
        payment_reference="offline_pay_pass",
    )
    return pass_, pass_.code


def _voucher(owner, organiser=None):
    voucher = VoucherFactory(
        organiser=organiser or OrganiserFactory(),
        source=Voucher.Source.BOUGHT,
        buyer=owner,
        buyer_email=owner.email,
        value=5000,
        payment_reference="offline_pay_voucher",
    )
    return voucher, voucher.public_id


def _invoice(owner, organiser=None):
    membership = MembershipFactory(
        user=owner, organiser=organiser or OrganiserFactory(), plan__name="Unlimited"
    )
    invoice = MembershipInvoiceFactory(
        membership=membership, amount_paid=3000, amount_due=3000, status="paid"
    )
    return invoice, invoice.code


OWNED = {"booking": _booking, "pass": _pass, "voucher": _voucher, "invoice": _invoice}


def test_every_kind_of_receipt_is_covered_by_these_tests():
    # A product that registers receipts gets the crossing tests below for free, if it is listed.
    assert sorted(OWNED) == receipts.receipt_kinds()


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(OWNED))
def test_the_owner_sees_the_receipt_page_and_its_pdf(kind, client_as_booker, booker):
    obj, ident = OWNED[kind](booker, a_seller())
    page_url, pdf_url = receipt_urls(kind, ident)

    page = client_as_booker.get(page_url)
    pdf = client_as_booker.get(pdf_url)

    assert page.status_code == 200
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert "private" in page["Cache-Control"] and "no-store" in pdf["Cache-Control"]
    text = pdf_text(pdf)
    for seller_fact in ["Riverside Yoga Studio Ltd", "1 Towpath", "GB123456789", "Includes VAT at 20%"]:
        assert seller_fact in text, seller_fact
        assert seller_fact in page.content.decode()
    assert pdf_url in page.content.decode()  # the page offers the PDF


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(OWNED))
def test_another_bookers_receipt_is_not_found(kind, client_as_booker, other_booker):
    _obj, ident = OWNED[kind](other_booker)
    for url in receipt_urls(kind, ident):
        assert client_as_booker.get(url).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(OWNED))
def test_a_visitor_who_is_not_logged_in_is_asked_to_log_in(kind, client, other_booker):
    _obj, ident = OWNED[kind](other_booker)
    for url in receipt_urls(kind, ident):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.django_db
def test_an_unknown_kind_or_a_malformed_identifier_is_not_found(client_as_booker):
    assert client_as_booker.get(receipts.receipt_url("nonsense", "x")).status_code == 404
    assert client_as_booker.get(receipts.receipt_url("pass", "not-a-uuid")).status_code == 404
    assert client_as_booker.get(receipts.receipt_url("invoice", "1")).status_code == 404


@pytest.mark.django_db
def test_post_is_rejected(client_as_booker, booker):
    _pass_, code = _pass(booker)
    assert client_as_booker.post(receipts.receipt_url("pass", code)).status_code == 405
    assert client_as_booker.post(receipts.receipt_pdf_url("pass", code)).status_code == 405


@pytest.mark.django_db
def test_a_booking_receipt_lists_tickets_discount_payment_method_and_refunds(client_as_booker, booker):
    booking, reference = _booking(booker, a_seller())
    booking.discount = 300
    booking.discount_reason = "Member discount (10%)"
    booking.status = Booking.Status.CANCELLED
    booking.save()
    RefundFactory(
        booking=booking,
        amount=900,
        reason=Refund.Reason.BOOKER_CANCELLED,
        method=BookingRules.RefundMethod.ORIGINAL,
        status=Refund.Status.SUCCEEDED,
        completed_at=timezone.now(),
    )

    text = pdf_text(client_as_booker.get(receipts.receipt_pdf_url("booking", reference)))

    assert "Morning Flow, Adult: Ada Booker" in text
    assert "Member discount (10%)" in text and "-£3.00" in text
    assert "Card" in text  # payment method
    assert "The booker cancelled, to your original payment" in text
    assert "Paid after refunds" in text and "£3.00" in text  # 12.00 - 9.00
    assert "no 14-day right of withdrawal" in text  # dated event bookings are exempt (Art. 16(l) CRD)


@pytest.mark.django_db
def test_a_pending_booking_has_no_receipt_yet(client_as_booker, booker):
    booking, reference = _booking(booker)
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.PENDING)
    assert client_as_booker.get(receipts.receipt_url("booking", reference)).status_code == 404


@pytest.mark.django_db
def test_a_guest_opens_their_booking_receipt_through_the_view_booking_link(client):
    booking = BookingFactory(user=None, status=Booking.Status.CONFIRMED, booker_email="guest@example.com")
    page_url, pdf_url = receipt_urls("booking", booking.reference)
    assert client.get(page_url).status_code == 302  # not yet: the link grants it

    client.get(links.view_booking_url(booking).removeprefix("http://testserver"))

    assert client.get(page_url).status_code == 200
    assert "guest@example.com" in pdf_text(client.get(pdf_url))
    other = BookingFactory(user=None, status=Booking.Status.CONFIRMED)
    assert client.get(receipts.receipt_url("booking", other.reference)).status_code == 302


@pytest.mark.django_db
def test_a_receipt_without_vat_details_prints_no_tax(client_as_booker, booker):
    _pass_, code = _pass(booker, OrganiserFactory(name="Little Explorers"))
    text = pdf_text(client_as_booker.get(receipts.receipt_pdf_url("pass", code)))
    assert "Little Explorers" in text and "£90.00" in text
    assert "VAT" not in text


@pytest.mark.django_db
def test_a_voucher_recipient_sees_no_receipt_of_the_buyers_purchase(booker):
    buyer = UserFactory()
    voucher = VoucherFactory(source=Voucher.Source.BOUGHT, buyer=buyer, recipient_email=booker.email)
    recipient = Client()
    recipient.force_login(booker)
    assert recipient.get(receipts.receipt_url("voucher", voucher.public_id)).status_code == 404


@pytest.mark.django_db
def test_the_vat_included_is_worked_out_from_the_total():
    organiser = OrganiserFactory.build(vat_rate_percent=20)
    receipt = receipts.Receipt(
        kind="pass",
        ident="x",
        organiser=organiser,
        number="1",
        title="t",
        issued_at=timezone.now() - timedelta(days=1),
        customer_name="",
        customer_email="",
        currency="GBP",
        lines=(),
        total=1200,
        payment_method="Card",
    )
    assert receipt.tax == 200  # 12.00 includes 2.00 VAT at 20%


# Where receipts are linked ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_booking_page_and_the_confirmation_email_link_the_receipt(
    client, booker, django_capture_on_commit_callbacks
):
    from django.core import mail

    from bookings import emails

    booking, reference = _booking(booker)
    client.force_login(booker)
    page = client.get(reverse("bookings:booking_detail", kwargs={"reference": reference})).content.decode()
    assert receipts.receipt_url("booking", reference) in page
    assert receipts.receipt_pdf_url("booking", reference) in page

    emails.booking_send_confirmation(booking_id=booking.pk)
    (message,) = mail.outbox
    # The View booking link (signed, so made afresh for each part) with ?to=receipt.
    found = re.findall(r"(http://\S+/portal/link/\S+/\?to=receipt)", message.body)
    assert len(found) == 1 and "?to=receipt" in message.alternatives[0][0]
    receipt_link = found[0]
    # The link opens the receipt in any browser: it grants the booking as View booking does.
    guest = Client()
    response = guest.get(receipt_link)  # the client takes the path and query of a full URL
    assert response.status_code == 302 and response["Location"] == receipts.receipt_url("booking", reference)
    assert guest.get(response["Location"]).status_code == 200


@pytest.mark.django_db
def test_the_passes_page_and_the_invoices_link_their_receipts(client_as_booker, booker):
    pass_, code = _pass(booker)
    invoice, invoice_code = _invoice(booker)
    assert (
        receipts.receipt_url("pass", code)
        in client_as_booker.get(reverse("passes:pass_list")).content.decode()
    )
    invoices = client_as_booker.get(
        reverse("memberships:membership_invoices", kwargs={"code": invoice.membership.code})
    )
    assert receipts.receipt_url("invoice", invoice_code) in invoices.content.decode()
