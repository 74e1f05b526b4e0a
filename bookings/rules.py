"""The organiser's rules as they apply to one event: the event's override, else the organiser's
default, else the built-in defaults (no transfers, no cancellations, refunds to the original payment)."""

from __future__ import annotations

from django.db.models import F, Q

from bookings.models import BookingFormField, BookingRules, Event


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
    The event itself is included only for the same-event scope (another ticket type)."""
    rules = rules or rules_for_event(event=event)
    events = Event.objects.for_organiser(event.organiser_id).upcoming()
    if not rules.transfers_allowed:
        return events.none()
    if rules.transfer_scope == BookingRules.TransferScope.SAME_EVENT:
        return events.filter(pk=event.pk)
    events = events.exclude(pk=event.pk)
    if rules.transfer_scope == BookingRules.TransferScope.CHOSEN_EVENTS:
        if rules.pk is None:
            return events.none()
        return events.filter(pk__in=rules.transfer_target_events.values("pk"))
    return events


def refund_amounts(*, rules: BookingRules, total: int, keep_fee: bool) -> tuple[int, int]:
    """(amount given back, fee kept) for a booking of `total` minor units under `rules`."""
    if rules.refund_method == BookingRules.RefundMethod.NONE:
        return 0, 0
    fee = min(rules.cancellation_fee, total) if keep_fee else 0
    return total - fee, fee


def booking_form_fields_for_event(*, event: Event):
    """The questions the booking form asks for `event`: its own fields if it has any, else the
    organiser's defaults (an event's fields replace the defaults; they are not added to them)."""
    own = BookingFormField.objects.for_organiser(event.organiser_id).filter(event=event)
    if own.exists():
        return own
    return BookingFormField.objects.for_organiser(event.organiser_id).filter(event__isnull=True)
