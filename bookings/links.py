"""Signed links: "View booking", the waiting list's offer, confirmation and manage links, and a
refund's choice of credit.

A link names one booking and carries that booking's current link secret (128 random bits). It
expires 90 days after the event ends. Opening a link grants this browser session that one
booking (it never logs anyone in) and redirects to the booking's own URL, so the token is seen
in that one request only. A grant holds the secret it was given: rotating the secret (a new link
emailed, a transfer, an account deleted) revokes every link sent so far and every session they
opened, and the old links answer like expired ones.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from bookings.models import Booking, Event, Refund, TicketGift, WaitingListEntry, new_link_secret

SALT = "bookings.view-booking-link"
LINK_LIFETIME_AFTER_EVENT = timedelta(days=90)
SESSION_KEY = "booking_grants"


def link_expiry(booking: Booking):
    return booking.event.ends_at + LINK_LIFETIME_AFTER_EVENT


def make_token(booking: Booking) -> str:
    payload = {"r": booking.reference, "s": booking.link_secret, "e": int(link_expiry(booking).timestamp())}
    return signing.dumps(payload, salt=SALT, compress=True)


def view_booking_url(booking: Booking) -> str:
    return settings.SITE_URL + reverse("bookings:booking_link", args=[make_token(booking)])


def booking_for_token(token: str) -> Booking | None:
    """The booking a token grants, or None if it is tampered, expired or revoked."""
    try:
        payload = signing.loads(token, salt=SALT)
        reference, secret, expires = payload["r"], payload["s"], int(payload["e"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    if timezone.now().timestamp() > expires:
        return None
    booking = Booking.objects.select_related("event", "organiser").filter(reference=reference).first()
    if booking is None or not constant_time_compare(booking.link_secret, secret):
        return None
    return booking


def grant(session, booking: Booking, *, moving: int | None = None) -> None:
    """Grant this session `booking`. `moving` is a transfer this session has just started: should
    its payment complete the move later (Stripe's webhook), the session keeps the booking."""
    grants = dict(session.get(SESSION_KEY, {}))
    held = {"s": booking.link_secret, "e": int(link_expiry(booking).timestamp())}
    if moving is not None:
        held["t"] = moving
    grants[booking.reference] = held
    session[SESSION_KEY] = grants


def is_granted(session, booking: Booking) -> bool:
    held = session.get(SESSION_KEY, {}).get(booking.reference)
    if not held or timezone.now().timestamp() > held["e"]:
        return False
    if constant_time_compare(held["s"], booking.link_secret):
        return True
    # The one rotation a session may follow: the move it started itself, when that move was the
    # last rotation (a link requested since, or a move by someone else, still shuts it out).
    if "t" in held and constant_time_compare(
        secret_after_transfer(held["s"], held["t"]), booking.link_secret
    ):
        grant(session, booking)
        return True
    return False


def revoke_links(booking: Booking) -> None:
    """A new secret: every link sent so far, and every session one opened, stop working.
    Call inside the transaction that sends the new links (or ends the booking's old owner)."""
    booking.link_secret = new_link_secret()
    booking.save(update_fields=["link_secret", "updated_at"])


def secret_after_transfer(secret: str, transfer_id: int) -> str:
    """The secret a completed transfer rotates to: as unguessable as a random one without the
    SECRET_KEY, yet known to the one session holding both the old secret and this transfer."""
    digest = salted_hmac("bookings.link-after-transfer", f"{secret}:{transfer_id}", algorithm="sha256")
    return digest.hexdigest()[:32]  # 128 bits, like new_link_secret()


# The waiting list ---------------------------------------------------------------------------------
#
# An offer's link names the entry; the offer itself (its window, whether it was used) is checked
# on the entry, so the link needs no expiry of its own. A confirmation link proves the mailbox
# and lasts a week.

OFFER_SALT = "bookings.waiting-list-offer"
CONFIRM_SALT = "bookings.waiting-list-confirm"
CONFIRM_LINK_LIFETIME = timedelta(days=7)
# The manage link (see the place, ask for fewer, leave) lasts as long as a View booking link, and
# grants the session that one place, as a View booking link grants one booking.
MANAGE_SALT = "bookings.waiting-list-manage"
WAITING_SESSION_KEY = "waiting_list_grants"


def waiting_list_offer_token(entry: WaitingListEntry) -> str:
    return signing.dumps(str(entry.code), salt=OFFER_SALT)


def waiting_list_offer_url(entry: WaitingListEntry) -> str:
    path = reverse("event_book", args=[entry.event.organiser.slug, entry.event.code])
    return f"{settings.SITE_URL}{path}?offer={waiting_list_offer_token(entry)}"


def waiting_list_offer_for_token(*, event: Event, token: str) -> WaitingListEntry | None:
    """The live offer (or notice that places are free) a signed link names for `event`, or None
    (tampered, used, expired)."""
    try:
        code = signing.loads(token, salt=OFFER_SALT)
    except signing.BadSignature:
        return None
    entry = WaitingListEntry.objects.filter(code=code, event=event).first()
    return entry if entry is not None and entry.may_claim else None


def waiting_list_confirm_url(entry: WaitingListEntry) -> str:
    token = signing.dumps(str(entry.code), salt=CONFIRM_SALT)
    return settings.SITE_URL + reverse("bookings:waiting_confirm", args=[token])


def waiting_list_entry_for_confirm_token(token: str) -> WaitingListEntry | None:
    """The place a confirmation link names, or None (tampered, older than a week, or the place
    is closed: left, booked, expired)."""
    try:
        code = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_LINK_LIFETIME)
    except signing.BadSignature:
        return None
    entry = WaitingListEntry.objects.select_related("event", "organiser").filter(code=code).first()
    if entry is None or not entry.is_on_the_list:
        return None
    return entry


def waiting_list_manage_token(entry: WaitingListEntry) -> str:
    expires = int((entry.event.ends_at + LINK_LIFETIME_AFTER_EVENT).timestamp())
    return signing.dumps({"c": str(entry.code), "e": expires}, salt=MANAGE_SALT)


def waiting_list_manage_url(entry: WaitingListEntry) -> str:
    return settings.SITE_URL + reverse("bookings:waiting_link", args=[waiting_list_manage_token(entry)])


def waiting_list_entry_for_manage_token(token: str) -> WaitingListEntry | None:
    """The place a manage link names, whatever its state, or None (tampered, another purpose's
    token, or more than 90 days after the event)."""
    try:
        payload = signing.loads(token, salt=MANAGE_SALT)
        code, expires = payload["c"], int(payload["e"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    if timezone.now().timestamp() > expires:
        return None
    return WaitingListEntry.objects.select_related("event", "organiser").filter(code=code).first()


def waiting_list_grant(session, entry: WaitingListEntry) -> None:
    """Grant this session `entry` (the last 20 places opened are kept)."""
    granted = [code for code in session.get(WAITING_SESSION_KEY, []) if code != str(entry.code)]
    session[WAITING_SESSION_KEY] = [*granted[-19:], str(entry.code)]


def waiting_list_is_granted(session, entry: WaitingListEntry) -> bool:
    return str(entry.code) in session.get(WAITING_SESSION_KEY, [])


# A refund's choice of credit ------------------------------------------------------------------
# When the organiser cancels and would rather give credit, the cancellation email lets the booker
# take credit instead of the card refund, until the refund's `credit_offer_until`.

REFUND_CHOICE_SALT = "bookings.refund-credit-choice"


def refund_choice_url(refund: Refund) -> str:
    token = signing.dumps(refund.pk, salt=REFUND_CHOICE_SALT)
    return settings.SITE_URL + reverse("bookings:refund_choice", args=[token])


def refund_for_choice_token(token: str) -> Refund | None:
    """The refund a choice link names, or None when the link was tampered with (whether the
    choice is still open is the service's question)."""
    try:
        refund_id = signing.loads(token, salt=REFUND_CHOICE_SALT)
    except signing.BadSignature:
        return None
    return Refund.objects.select_related("booking__event", "booking__organiser").filter(pk=refund_id).first()


# Giving a ticket away ---------------------------------------------------------------------------
# The accept link names the offer; whether it is still open (not withdrawn, accepted or run out)
# is checked on the offer, so a withdrawn offer's link stops working at once.

GIFT_SALT = "bookings.ticket-gift"


def gift_accept_url(gift: TicketGift) -> str:
    token = signing.dumps(str(gift.code), salt=GIFT_SALT)
    return settings.SITE_URL + reverse("bookings:gift_accept", args=[token])


def gift_for_token(token: str) -> TicketGift | None:
    """The offer an accept link names (open or not), or None when the link was tampered with."""
    try:
        code = signing.loads(token, salt=GIFT_SALT)
    except signing.BadSignature:
        return None
    return (
        TicketGift.objects.select_related("booking__event", "booking__organiser", "new_booking")
        .filter(code=code)
        .first()
    )
