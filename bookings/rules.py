"""The organiser's rules as they apply to one event: the event's override, else the organiser's
default, else the built-in defaults (no transfers, no cancellations, refunds to the original payment)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F, Q
from django.utils import timezone

from bookings.exceptions import ERRORS
from bookings.models import Booking, BookingRules, Event


def rules_for_event(*, event: Event) -> BookingRules:
    """The rules in force for `event`. Never None: without any saved rules this is an unsaved
    BookingRules carrying the model defaults (so `transfer_target_events` must not be read from it;
    use `transfer_targets_for_event`)."""
    found = (
        BookingRules.objects.for_organiser(event.organiser_id)
        .filter(Q(event=event) | Q(event__isnull=True))
        .order_by(F("event").asc(nulls_last=True))  # the event's own rules win
        .first()
    )
    return found or BookingRules(organiser_id=event.organiser_id)


def transfer_targets_for_event(*, event: Event, rules: BookingRules | None = None):
    """Upcoming scheduled events of the same organiser that a ticket of `event` may move to.
    Whatever the scope, the event itself is one (another ticket type of it: a Drop-in changed
    to a Concession is a move under the same rules)."""
    rules = rules or rules_for_event(event=event)
    events = Event.objects.for_organiser(event.organiser_id).upcoming()
    if not rules.transfers_allowed:
        return events.none()
    if rules.transfer_scope == BookingRules.TransferScope.SAME_EVENT:
        return events.filter(pk=event.pk)
    if rules.transfer_scope == BookingRules.TransferScope.CHOSEN_EVENTS:
        if rules.pk is None:
            return events.filter(pk=event.pk)
        return events.filter(Q(pk=event.pk) | Q(pk__in=rules.transfer_target_events.values("pk")))
    return events


# Payments the gateway can give back; anything else paid (a pass, a voucher) becomes account credit.
GATEWAY_PAYMENT_METHODS = {Booking.PaymentMethod.CARD, Booking.PaymentMethod.OFFLINE}


def refund_method_for(*, booking: Booking, method: str, amount: int) -> str:
    """The rules' refund method, except that "to the original payment" becomes account credit
    when there is no card payment to give back (a pass, a voucher, no payment reference)."""
    if (
        method == BookingRules.RefundMethod.ORIGINAL
        and amount
        and (booking.payment_method not in GATEWAY_PAYMENT_METHODS or not booking.payment_reference)
    ):
        return BookingRules.RefundMethod.CREDIT
    return method


def refund_amounts(*, rules: BookingRules, total: int, keep_fee: bool) -> tuple[int, int]:
    """(amount given back, fee kept) for a booking of `total` minor units under `rules`."""
    if rules.refund_method == BookingRules.RefundMethod.NONE:
        return 0, 0
    fee = min(rules.cancellation_fee, total) if keep_fee else 0
    return total - fee, fee


def _common_block(booking: Booking, now) -> str:
    if booking.status == Booking.Status.CANCELLED:
        return ERRORS["already_cancelled"]
    if booking.status != Booking.Status.CONFIRMED:
        return ERRORS["not_confirmed"]
    if booking.event.is_cancelled:
        return ERRORS["event_cancelled"]
    if booking.event.starts_at <= now:
        return ERRORS["event_started"]
    return ""


def transfer_blocked_reason(*, booking: Booking, rules: BookingRules, now=None) -> str:
    """Why the booker can't move this booking right now, in their words; "" when they can."""
    now = now or timezone.now()
    if reason := _common_block(booking, now):
        return reason
    if not rules.transfers_allowed:
        return ERRORS["transfers_off"] % {"organiser": booking.organiser.name}
    if _paid_with_pass_or_voucher(booking):
        return ERRORS["transfer_pass_voucher"] % {"organiser": booking.organiser.name}
    if now > booking.event.starts_at - timedelta(hours=rules.transfer_cutoff_hours):
        return ERRORS["transfers_closed"] % {"hours": rules.transfer_cutoff_hours}
    return ""


def _paid_with_pass_or_voucher(booking: Booking) -> bool:
    # Pricing a move of uses or voucher money is the organiser's call, not a price difference.
    return (
        booking.payment_method in {Booking.PaymentMethod.PASS, Booking.PaymentMethod.VOUCHER}
        or hasattr(booking, "pass_redemption")
        or hasattr(booking, "voucher_redemption")
    )


def cancel_blocked_reason(*, booking: Booking, rules: BookingRules, now=None) -> str:
    """Why the booker can't cancel this booking right now; "" when they can."""
    now = now or timezone.now()
    if reason := _common_block(booking, now):
        return reason
    if not rules.cancellations_allowed:
        return ERRORS["cancellations_off"] % {"organiser": booking.organiser.name}
    if now > booking.event.starts_at - timedelta(hours=rules.cancellation_cutoff_hours):
        return ERRORS["cancellations_closed"] % {"hours": rules.cancellation_cutoff_hours}
    return ""


def details_blocked_reason(*, booking: Booking, rules: BookingRules, now=None) -> str:
    """Why the booker can't correct attendee names or form answers right now; "" when they can.
    The rule is a cut-off in hours before the event, or none at all (never editable)."""
    now = now or timezone.now()
    if reason := _common_block(booking, now):
        return reason
    if rules.details_cutoff_hours is None:
        return ERRORS["details_off"] % {"organiser": booking.organiser.name}
    if now > booking.event.starts_at - timedelta(hours=rules.details_cutoff_hours):
        return ERRORS["details_closed"] % {"hours": rules.details_cutoff_hours}
    return ""


def gift_blocked_reason(*, booking: Booking, rules: BookingRules, now=None) -> str:
    """Why the booker can't give a ticket away right now; "" when they can. The rule is a
    cut-off in hours before the event, or none at all (never)."""
    now = now or timezone.now()
    if reason := _common_block(booking, now):
        return reason
    if rules.gift_cutoff_hours is None:
        return ERRORS["gifts_off"] % {"organiser": booking.organiser.name}
    if _paid_with_pass_or_voucher(booking):
        # A pass use or voucher money is the giver's own: the organiser settles such cases.
        return ERRORS["gift_pass_voucher"] % {"organiser": booking.organiser.name}
    if booking.included_amount and all(attendee.included for attendee in booking.attendees.all()):
        # Each ticket was paid by the member's own included bookings (some of them may be given).
        return ERRORS["gift_included"] % {"organiser": booking.organiser.name}
    if now > booking.event.starts_at - timedelta(hours=rules.gift_cutoff_hours):
        return ERRORS["gifts_closed"] % {"hours": rules.gift_cutoff_hours}
    return ""


def price_difference_block(*, rules: BookingRules, difference: int) -> str:
    """Why the rules refuse a move with this price difference (new total - old); "" if allowed."""
    if rules.price_difference == BookingRules.PriceDifference.SAME_PRICE_ONLY and difference:
        return ERRORS["same_price_only"]
    if rules.price_difference == BookingRules.PriceDifference.EQUAL_OR_CHEAPER_NO_REFUND and difference > 0:
        return ERRORS["no_dearer"]
    return ""
