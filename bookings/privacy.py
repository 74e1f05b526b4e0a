"""What bookings keeps about a booker, and how account deletion erases it (accounts.privacy,
registered in BookingsConfig.ready)."""

from __future__ import annotations

from django.db.models import Q

from accounts.privacy import DELETED_ANSWER, DELETED_ATTENDEE, DELETED_NAME, Erasure
from bookings.links import revoke_links
from bookings.models import (
    AccountCredit,
    Attendee,
    Booking,
    BookingFormResponse,
    CancelledTicket,
    DetailEdit,
    TicketGift,
    WaitingListEntry,
)
from bookings.services import waiting_list_entries_close


def bookings_anonymise(erasure: Erasure) -> None:
    """Their bookings (and guest bookings made with a proved address of theirs), the people on
    the tickets, their answers, waiting-list places and credits. The bookings themselves stay,
    with their tickets, amounts and dates, for the organisers' reports; every View booking link to
    them is revoked."""
    user = erasure.user
    # A place kept open for nobody would hold a seat back from the next person waiting. Closed
    # first: an offer's places go back on its event's row, which is locked before any booking row.
    entries = WaitingListEntry.objects.filter(Q(user=user) | erasure.by_email("email"))
    entry_ids = list(entries.values_list("pk", flat=True))
    waiting_list_entries_close(entry_ids=entry_ids)
    WaitingListEntry.objects.filter(pk__in=entry_ids).update(
        name=DELETED_NAME, email=erasure.placeholder_email
    )
    erasure.anonymised(WaitingListEntry, entry_ids)

    bookings = list(
        Booking.objects.select_for_update()
        .filter(Q(user=user) | (Q(user__isnull=True) & erasure.by_email("booker_email")))
        .order_by("pk")
    )
    booking_ids = [b.pk for b in bookings]
    erasure.names |= {b.booker_name.strip() for b in bookings}
    Booking.objects.filter(pk__in=booking_ids).update(
        booker_name=DELETED_NAME, booker_email=erasure.placeholder_email, booker_phone=""
    )
    for booking in bookings:
        revoke_links(booking)
    erasure.anonymised(Booking, booking_ids, count_as="bookings")
    attendee_ids = list(Attendee.objects.filter(booking__in=booking_ids).values_list("pk", flat=True))
    Attendee.objects.filter(pk__in=attendee_ids).update(name=DELETED_ATTENDEE)
    erasure.anonymised(Attendee, attendee_ids)
    cancelled_ids = list(
        CancelledTicket.objects.filter(cancellation__booking__in=booking_ids).values_list("pk", flat=True)
    )
    CancelledTicket.objects.filter(pk__in=cancelled_ids).update(name=DELETED_ATTENDEE)
    erasure.anonymised(CancelledTicket, cancelled_ids)
    BookingFormResponse.objects.filter(booking__in=booking_ids).update(answer=DELETED_ANSWER)
    # Their corrections' before and after are names and answers too: the trail keeps only when.
    DetailEdit.objects.filter(booking__in=booking_ids).update(
        changes=[], changed_by_label=DELETED_NAME, changed_by_role=""
    )
    # Tickets they gave (the label names their attendee) and tickets given to their address.
    given = TicketGift.objects.filter(booking__in=booking_ids)
    given.update(ticket_label=DELETED_ATTENDEE)
    received = TicketGift.objects.filter(erasure.by_email("recipient_email"))
    received_ids = list(received.values_list("pk", flat=True))
    received.update(recipient_name=DELETED_NAME, recipient_email=erasure.placeholder_email)
    erasure.anonymised(TicketGift, [*given.values_list("pk", flat=True), *received_ids])

    credits = AccountCredit.objects.filter(Q(user=user) | erasure.by_email("email"))
    credit_ids = list(credits.values_list("pk", flat=True))
    AccountCredit.objects.filter(pk__in=credit_ids).update(email=erasure.placeholder_email)
    erasure.anonymised(AccountCredit, credit_ids)
