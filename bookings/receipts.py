"""A booking's receipt (portal.receipts): its tickets, what took money off, how it was paid and
what went back. The booker's own booking, or the one a signed View booking link opened."""

from __future__ import annotations

from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bookings import selectors
from bookings.models import Booking, BookingRules
from portal.dates import local_date
from portal.receipts import Receipt, ReceiptLine, ReceiptRefund

KIND = "booking"


def booking_receipt(*, request, ident: str) -> Receipt | None:
    try:
        booking = selectors.booking_get_for_viewer(request=request, reference=ident, with_history=True)
    except Http404:
        return None
    if booking.status == Booking.Status.PENDING:
        return None  # nothing paid yet: no receipt
    return booking_receipt_for(booking)


def booking_receipt_for(booking: Booking) -> Receipt:
    event = booking.event
    lines = [
        ReceiptLine(
            description=f"{event.title}, {attendee.ticket_type.name}: {attendee.name}", amount=attendee.price
        )
        for attendee in booking.attendees.all()
    ]
    if booking.included_amount:  # before the discount, as the price is worked out
        lines.append(
            ReceiptLine(
                description=booking.included_reason or _("Included in your membership"),
                amount=booking.included_amount,
                deduction=True,
            )
        )
    if booking.discount:
        lines.append(
            ReceiptLine(description=booking.discount_reason, amount=booking.discount, deduction=True)
        )
    used = getattr(booking, "voucher_redemption", None)
    if used is not None:
        lines.append(
            ReceiptLine(
                description=_("Gift voucher ending %(code)s") % {"code": used.voucher.code[-4:]},
                amount=used.amount,
                deduction=True,
            )
        )
    notes = []
    spent = getattr(booking, "pass_redemption", None)
    if spent is not None:
        covered = sum(line.amount for line in lines if not line.deduction) - sum(
            line.amount for line in lines if line.deduction
        )
        lines.append(
            ReceiptLine(
                description=ngettext("%(pass)s: %(uses)s use", "%(pass)s: %(uses)s uses", spent.uses)
                % {"pass": spent.booker_pass.pass_type.name, "uses": spent.uses},
                amount=max(covered - booking.total, 0),
                deduction=True,
            )
        )
    if booking.is_cancelled:
        notes.append(_("This booking was cancelled."))
    # Say it where the booker keeps the record of what they bought (Art. 16(l) CRD).
    notes.append(
        _(
            "A booking for an event on a specific date has no 14-day right of withdrawal; "
            "the organiser's cancellation rules apply."
        )
    )
    refunds = tuple(
        ReceiptRefund(
            on=refund.completed_at or refund.created_at,
            amount=refund.amount,
            description=_refund_description(refund),
        )
        for refund in booking.refunds.all()
        if refund.amount
    )
    return Receipt(
        kind=KIND,
        ident=booking.reference,
        organiser=booking.organiser,
        number=booking.reference,
        title=_("Booking %(reference)s: %(event)s, %(date)s")
        % {
            "reference": booking.reference,
            "event": event.title,
            "date": local_date(event.starts_at, booking.organiser),
        },
        issued_at=booking.created_at,
        customer_name=booking.booker_name,
        customer_email=booking.booker_email,
        currency=booking.currency,
        lines=tuple(lines),
        total=booking.total,
        payment_method=booking.get_payment_method_display(),
        status=booking.get_status_display(),
        payment_reference=booking.payment_reference,
        notes=tuple(notes),
        refunds=refunds,
        back_url=reverse("bookings:booking_detail", kwargs={"reference": booking.reference}),
        back_label=_("Back to the booking"),
    )


def _refund_description(refund) -> str:
    if refund.method == BookingRules.RefundMethod.CREDIT:
        how = _("as account credit")
    else:
        how = _("to your original payment")
    state = refund.get_status_display().lower()
    return f"{refund.get_reason_display()}, {how} ({state})"
