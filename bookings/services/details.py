"""The booker correcting a booking's details: attendee names and answers to the booking form."""

from __future__ import annotations

from functools import partial

from django.db import transaction

from bookings import capacity
from bookings import rules as booking_rules
from bookings.exceptions import ERRORS, BookingError
from bookings.models import Booking, BookingFormField, BookingFormResponse, DetailEdit
from bookings.services.booking import booking_lock
from bookings.tasks import detail_edit_send_confirmation as detail_edit_send_confirmation_task


@transaction.atomic
def booking_edit_details(
    *,
    booking: Booking,
    names: dict[int, str],
    answers: dict[BookingFormField, str],
    idempotency_key: str,
    user=None,
) -> DetailEdit:
    """Save the booker's corrections to attendee names (by attendee id) and form answers, as
    the organiser's rules allow now (`rules.details_blocked_reason`: until a cut-off, or never).

    Only what differs is saved, and recorded as one DetailEdit (who, when, each change before
    and after) for the organiser's audit trail; after commit the booker is emailed what changed.
    Locks the event and then the booking, the order every change takes. The same key again
    returns the first edit. Raises BookingError: the rules refuse, a ticket is no longer on the
    booking, or nothing changed."""
    capacity.events_lock(booking.event_id)
    booking = booking_lock(booking)
    replay = booking.detail_edits.filter(idempotency_key=idempotency_key).first()
    if replay is not None:
        return replay
    rules = booking_rules.rules_for_event(event=booking.event)
    if reason := booking_rules.details_blocked_reason(booking=booking, rules=rules):
        raise BookingError(reason)
    attendees = list(booking.attendees.select_related("ticket_type").order_by("pk"))
    if not set(names) <= {attendee.pk for attendee in attendees}:
        raise BookingError(ERRORS["tickets_changed"])
    changes = []
    for number, attendee in enumerate(attendees, start=1):
        name = names.get(attendee.pk, attendee.name)
        if name != attendee.name:
            # Stored as a key, named in the reader's language when shown (`DetailEdit.changes_shown`);
            # "what" in English too, for anything that reads the trail as it is stored.
            changes.append(
                {
                    "field": "attendee_name",
                    "attendee": number,
                    "ticket": attendee.ticket_type.name,
                    "what": f"Name of attendee {number} ({attendee.ticket_type.name})",
                    "before": attendee.name,
                    "after": name,
                }
            )
            attendee.name = name
            attendee.save(update_fields=["name", "updated_at"])
    responses = {response.field_id: response for response in booking.responses.all() if response.field_id}
    for field, answer in answers.items():
        response = responses.get(field.pk)
        before = response.answer if response else ""
        if answer == before:
            continue
        # The organiser's own question, as they wrote it (it has no translation).
        changes.append({"field": "question", "what": field.label, "before": before, "after": answer})
        if response is None:
            BookingFormResponse.objects.create(
                organiser_id=booking.organiser_id,
                booking=booking,
                field=field,
                label=field.label,
                answer=answer,
            )
        else:
            response.answer = answer
            response.save(update_fields=["answer", "updated_at"])
    if not changes:
        raise BookingError(ERRORS["details_unchanged"])
    edit = DetailEdit.objects.create(
        organiser_id=booking.organiser_id,
        booking=booking,
        changed_by=user,
        changed_by_label=f"{user.name} <{user.email}>"[:300] if user is not None else booking.booker_email,
        changed_by_role=_role(booking, user),
        changes=changes,
        idempotency_key=idempotency_key,
    )
    booking.save(update_fields=["updated_at"])  # the booking cards show the names
    transaction.on_commit(partial(detail_edit_send_confirmation_task.delay, edit.pk))
    return edit


def _role(booking: Booking, user) -> str:
    if user is None:
        return DetailEdit.ChangedBy.LINK
    return DetailEdit.ChangedBy.BOOKER if user.pk == booking.user_id else DetailEdit.ChangedBy.OTHER_ACCOUNT
