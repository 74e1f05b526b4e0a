"""The IDOR registry: every booker-facing route whose URL names an object.

`test_idor_matrix.py` walks the URLconf; each route with a path parameter must be either

- in IDOR_ROUTES: a factory that builds ANOTHER booker's object and returns the URL kwargs plus a
  snapshot of the state a request could change. The matrix GETs and POSTs the URL as our booker
  and expects 404 (405 for a POST to a GET-only view) and an unchanged snapshot; or
- in PUBLIC_ROUTES, with the reason the identifier is meant to be public (or is itself the key).

Adding a route? Add an entry here, next to the others of its section:

    @idor_route("passes:pass_detail")
    def _(owner):
        pass_ = PassFactory(user=owner)
        return Target(kwargs={"code": pass_.code}, snapshot=rows(Pass.objects.filter(pk=pass_.pk)))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.core import mail
from django.db.models import QuerySet
from django.utils import timezone

from bookings.models import (
    Attendee,
    Booking,
    BookingFormResponse,
    DetailEdit,
    Refund,
    TicketCancellation,
    TicketGift,
    Transfer,
    WaitingListEntry,
)
from memberships.models import Membership, MembershipInvoice, MembershipPause, MembershipPlan
from passes.models import Pass, PassRedemption
from portal.models import Withdrawal
from tests.factories import (
    AttendeeFactory,
    BookingFormResponseFactory,
    BookingRulesFactory,
    EventFactory,
    OrganiserFactory,
    TicketTypeFactory,
    WaitingListEntryFactory,
)
from tests.memberships.factories import MembershipFactory, MembershipInvoiceFactory, MembershipPlanFactory
from tests.passes.factories import PassFactory, PassRedemptionFactory
from tests.vouchers.factories import VoucherFactory, VoucherRedemptionFactory
from vouchers.models import Voucher, VoucherRedemption


@dataclass
class Target:
    kwargs: dict
    snapshot: Callable[[], object]
    post_data: dict = field(default_factory=dict)


IDOR_ROUTES: dict[str, Callable] = {}

PUBLIC_ROUTES: dict[str, str] = {
    "organiser_page": "an organiser's public page, by its public slug",
    "media": "uploaded organiser logos, shown on public pages; their names are random",
    "organiser_brand_css": "an organiser's public brand stylesheet (accent colour), by its public slug",
    "event_book": "an organiser's public event page, by the event's random UUID; booking acts for the visitor",
    "waiting_list_join": "joining a public event's waiting list, by the event's random UUID",
    "bookings:booking_link": (
        "the signed View booking link: the token is the capability; tampered, foreign, expired, "
        "rotated and wrong-salt tokens answer 404 (tests/bookings/test_booking_links.py)"
    ),
    "bookings:waiting_confirm": (
        "the signed waiting-list confirmation link from the email: the token is the capability; "
        "tampered, other-purpose and week-old tokens answer 404 (tests/security/test_waiting_list_consent.py)"
    ),
    "bookings:waiting_link": (
        "the signed waiting-list manage link from the emails: the token is the capability and "
        "grants that one place; tampered, other-purpose and expired tokens answer 404, and the grant "
        "opens no other place (tests/security/test_waiting_list_manage_link.py)"
    ),
    "bookings:refund_choice": (
        "the signed link in an organiser-cancellation email offering credit instead of the card "
        "refund: the token is the capability, sent to the booking's email; tampered tokens answer "
        "404 and a closed offer changes nothing (tests/bookings/test_organiser_cancel.py)"
    ),
    "bookings:gift_accept": (
        "the signed accept link of a ticket given away, emailed to its recipient: the token is the "
        "capability; tampered tokens answer 404, and a withdrawn, expired or accepted offer "
        "changes nothing (tests/tickets/test_gifts.py)"
    ),
    "memberships:membership_join": (
        "a membership plan an organiser offers publicly, by its random UUID; joining subscribes the "
        "logged-in booker only"
    ),
    "passes_public:pass_type_list": "an organiser's public list of passes for sale, by its public slug",
    "passes_public:pass_buy": "buying a pass type an organiser sells publicly, by its random UUID",
    "vouchers_public:voucher_buy": "an organiser's public gift-voucher shop, by its public slug",
    "calendars:feed": (
        "a booker's calendar feed, for calendar apps that cannot log in: the secret token (192 random "
        "bits) is the capability; an unknown or rotated token answers 404, guesses are rate limited "
        "(tests/calendars/test_feed.py)"
    ),
    "calendars:reminders_unsubscribe": (
        "the signed one-click unsubscribe link of a reminder email (RFC 8058): the token is the "
        "capability and names the organiser and address; tampered tokens answer 404 "
        "(tests/calendars/test_reminders.py)"
    ),
    "account_confirm_email": "allauth's email confirmation key: the key is the capability (HMAC-signed)",
    "account_reset_password_from_key": "allauth's password reset key: the key is the capability",
}


def idor_route(name: str):
    def register(factory):
        assert name not in IDOR_ROUTES, f"{name} is registered twice"
        IDOR_ROUTES[name] = factory
        return factory

    return register


def rows(*querysets: QuerySet) -> Callable[[], object]:
    """A snapshot: every field of these rows, and how many emails have gone out."""

    def snapshot():
        return [list(qs.order_by("pk").values()) for qs in querysets] + [len(mail.outbox)]

    return snapshot


# Bookings


def _others_booking(owner) -> Booking:
    attendee = AttendeeFactory(
        booking__organiser=OrganiserFactory(),
        booking__user=owner,
        booking__booker_email=owner.email,
        booking__status=Booking.Status.CONFIRMED,
    )
    BookingFormResponseFactory(booking=attendee.booking)
    return attendee.booking


def _booking_rows(booking: Booking) -> Callable[[], object]:
    return rows(
        Booking.objects.filter(pk=booking.pk),
        Attendee.objects.filter(booking=booking),
        BookingFormResponse.objects.filter(booking=booking),
    )


@idor_route("bookings:booking_detail")
def _(owner):
    booking = _others_booking(owner)
    return Target(kwargs={"reference": booking.reference}, snapshot=_booking_rows(booking))


@idor_route("calendars:booking_ics")
def _(owner):
    booking = _others_booking(owner)
    return Target(kwargs={"reference": booking.reference}, snapshot=_booking_rows(booking))


def _others_changeable_booking(owner) -> Booking:
    # Rules that allow every change, so only the ownership check can refuse our booker.
    booking = _others_booking(owner)
    BookingRulesFactory(organiser=booking.organiser, event=None)
    return booking


def _changeable_rows(booking: Booking) -> Callable[[], object]:
    return rows(
        Booking.objects.filter(pk=booking.pk),
        Attendee.objects.filter(booking=booking),
        Refund.objects.filter(booking=booking),
        Transfer.objects.filter(booking=booking),
    )


@idor_route("bookings:booking_manage")
def _(owner):
    booking = _others_changeable_booking(owner)
    return Target(kwargs={"reference": booking.reference}, snapshot=_changeable_rows(booking))


@idor_route("bookings:booking_cancel")
def _(owner):
    booking = _others_changeable_booking(owner)
    AttendeeFactory(booking=booking, ticket_type=booking.attendees.get().ticket_type)
    first = booking.attendees.order_by("pk").first()
    return Target(
        kwargs={"reference": booking.reference},
        snapshot=rows(
            Booking.objects.filter(pk=booking.pk),
            Attendee.objects.filter(booking=booking),
            Refund.objects.filter(booking=booking),
            TicketCancellation.objects.filter(booking=booking),
        ),
        # One of their two tickets, as the dialog posts it: a partial cancel if the check failed.
        post_data={
            "choosing": "1",
            "ticket": str(first.pk),
            "quoted": str(first.pk),
            "idempotency_key": "idor",
        },
    )


@idor_route("bookings:booking_details")
def _(owner):
    booking = _others_booking(owner)
    BookingRulesFactory(organiser=booking.organiser, event=None, details_cutoff_hours=0)
    attendee = booking.attendees.get()
    return Target(
        kwargs={"reference": booking.reference},
        snapshot=rows(
            Booking.objects.filter(pk=booking.pk),
            Attendee.objects.filter(booking=booking),
            BookingFormResponse.objects.filter(booking=booking),
            DetailEdit.objects.filter(booking=booking),
        ),
        # A rename, as the Edit details form posts it: saved if the ownership check failed.
        post_data={f"attendee_{attendee.pk}_name": "Renamed by a stranger", "idempotency_key": "idor"},
    )


def _others_giftable_booking(owner) -> Booking:
    booking = _others_booking(owner)
    BookingRulesFactory(organiser=booking.organiser, event=None, gift_cutoff_hours=0)
    return booking


def _gift_rows(booking: Booking) -> Callable[[], object]:
    return rows(
        Booking.objects.filter(organiser=booking.organiser),
        Attendee.objects.filter(organiser=booking.organiser),
        TicketGift.objects.filter(booking=booking),
    )


@idor_route("bookings:booking_give")
def _(owner):
    booking = _others_giftable_booking(owner)
    return Target(
        kwargs={"reference": booking.reference},
        snapshot=_gift_rows(booking),
        post_data={
            "ticket": str(booking.attendees.get().pk),
            "recipient_name": "A stranger",
            "recipient_email": "stranger@example.net",
            "idempotency_key": "idor",
        },
    )


@idor_route("bookings:gift_withdraw")
def _(owner):
    booking = _others_giftable_booking(owner)
    gift = TicketGift.objects.create(
        organiser=booking.organiser,
        booking=booking,
        attendee=booking.attendees.get(),
        ticket_label="Their ticket",
        recipient_name="Their friend",
        recipient_email="friend@example.net",
        expires_at=booking.event.starts_at,
        idempotency_key="theirs",
    )
    return Target(kwargs={"reference": booking.reference, "code": gift.code}, snapshot=_gift_rows(booking))


@idor_route("bookings:booking_transfer")
def _(owner):
    booking = _others_changeable_booking(owner)
    ticket_type = TicketTypeFactory(event=EventFactory(organiser=booking.organiser), price=0)
    return Target(
        kwargs={"reference": booking.reference},
        snapshot=_changeable_rows(booking),
        post_data={
            "event": str(ticket_type.event.code),
            "ticket": str(ticket_type.pk),
            "from": str(booking.event.code),
            "idempotency_key": "idor",
        },
    )


def _others_waiting_entry(owner) -> WaitingListEntry:
    return WaitingListEntryFactory(user=owner, email=owner.email)


@idor_route("bookings:waiting_detail")
def _(owner):
    entry = _others_waiting_entry(owner)
    return Target(kwargs={"code": entry.code}, snapshot=rows(WaitingListEntry.objects.filter(pk=entry.pk)))


@idor_route("bookings:waiting_leave")
def _(owner):
    entry = _others_waiting_entry(owner)
    return Target(kwargs={"code": entry.code}, snapshot=rows(WaitingListEntry.objects.filter(pk=entry.pk)))


@idor_route("bookings:waiting_places")
def _(owner):
    entry = WaitingListEntryFactory(user=owner, email=owner.email, quantity=3)
    return Target(
        kwargs={"code": entry.code},
        snapshot=rows(WaitingListEntry.objects.filter(pk=entry.pk)),
        post_data={"quantity": 1},
    )


# Memberships


def _others_membership(owner) -> tuple[Membership, MembershipInvoice]:
    membership = MembershipFactory(user=owner, card_brand="Visa", card_last4="4242")
    return membership, MembershipInvoiceFactory(membership=membership)


def _membership_rows(membership: Membership) -> Callable[[], object]:
    return rows(
        Membership.objects.filter(pk=membership.pk),
        MembershipInvoice.objects.filter(membership=membership),
    )


@idor_route("memberships:membership_invoices")
def _(owner):
    membership, _invoice = _others_membership(owner)
    return Target(kwargs={"code": membership.code}, snapshot=_membership_rows(membership))


@idor_route("memberships:membership_invoice")
def _(owner):
    membership, invoice = _others_membership(owner)
    return Target(
        kwargs={"code": membership.code, "invoice_code": invoice.code}, snapshot=_membership_rows(membership)
    )


@idor_route("memberships:membership_card")
def _(owner):
    membership, _invoice = _others_membership(owner)
    return Target(
        kwargs={"code": membership.code},
        snapshot=_membership_rows(membership),
        post_data={"number": "4000 0566 5566 5556", "exp_month": "12", "exp_year": "2040", "cvc": "123"},
    )


@idor_route("memberships:membership_cancel")
def _(owner):
    membership, _invoice = _others_membership(owner)
    return Target(kwargs={"code": membership.code}, snapshot=_membership_rows(membership))


def _membership_change_rows(membership: Membership) -> Callable[[], object]:
    return rows(
        Membership.objects.filter(pk=membership.pk),
        MembershipInvoice.objects.filter(membership=membership),
        MembershipPause.objects.filter(membership=membership),
    )


@idor_route("memberships:membership_resume")
def _(owner):
    # Cancelled, so that resuming it is something a crossing request could do.
    membership, _invoice = _others_membership(owner)
    Membership.objects.filter(pk=membership.pk).update(cancel_at_period_end=True)
    return Target(kwargs={"code": membership.code}, snapshot=_membership_change_rows(membership))


@idor_route("memberships:membership_pause")
def _(owner):
    membership, _invoice = _others_membership(owner)
    MembershipPlan.objects.filter(pk=membership.plan_id).update(pause_allowed=True)
    return Target(
        kwargs={"code": membership.code},
        snapshot=_membership_change_rows(membership),
        post_data={"weeks": "1"},
    )


@idor_route("memberships:membership_pause_end")
def _(owner):
    membership, _invoice = _others_membership(owner)
    Membership.objects.filter(pk=membership.pk).update(
        status=Membership.Status.PAUSED, paused_until=timezone.now() + timedelta(weeks=1)
    )
    return Target(kwargs={"code": membership.code}, snapshot=_membership_change_rows(membership))


@idor_route("memberships:membership_switch")
def _(owner):
    membership, _invoice = _others_membership(owner)
    other_plan = MembershipPlanFactory(organiser=membership.organiser, price=9000)
    return Target(
        kwargs={"code": membership.code},
        snapshot=_membership_change_rows(membership),
        post_data={"plan": str(other_plan.code), "quoted_at": str(int(timezone.now().timestamp()))},
    )


# Passes


@idor_route("passes:pass_detail")
def _(owner):
    pass_ = PassFactory(user=owner, buyer_email=owner.email)
    PassRedemptionFactory(booker_pass=pass_)
    return Target(
        kwargs={"code": pass_.code},
        snapshot=rows(Pass.objects.filter(pk=pass_.pk), PassRedemption.objects.filter(booker_pass=pass_)),
    )


# Vouchers


@idor_route("vouchers:voucher_detail")
def _(owner):
    voucher = VoucherFactory(buyer=owner, recipient_email=owner.email)
    VoucherRedemptionFactory(voucher=voucher)
    return Target(
        kwargs={"public_id": voucher.public_id},
        snapshot=rows(
            Voucher.objects.filter(pk=voucher.pk), VoucherRedemption.objects.filter(voucher=voucher)
        ),
    )


# Receipts and withdrawals (portal.receipts, portal.withdrawals): one route per mechanism, with a
# `kind` naming the product; tests/portal/test_receipts.py and tests/portal/test_withdrawals.py
# cross every registered kind. Here: a pass, the kind both mechanisms share.


def _others_bought_pass(owner) -> Pass:
    return PassFactory(
        user=owner, buyer_email=owner.email, idempotency_key="idor", payment_reference="offline_pay_idor"
    )


def _pass_and_withdrawal_rows(pass_: Pass) -> Callable[[], object]:
    return rows(Pass.objects.filter(pk=pass_.pk), Withdrawal.objects.all())


@idor_route("receipt_detail")
def _(owner):
    pass_ = _others_bought_pass(owner)
    return Target(
        kwargs={"kind": "pass", "ident": str(pass_.code)}, snapshot=_pass_and_withdrawal_rows(pass_)
    )


@idor_route("receipt_pdf")
def _(owner):
    pass_ = _others_bought_pass(owner)
    return Target(
        kwargs={"kind": "pass", "ident": str(pass_.code)}, snapshot=_pass_and_withdrawal_rows(pass_)
    )


@idor_route("withdrawal_confirm")
def _(owner):
    # Within its withdrawal period, bought online: only the ownership check can refuse our booker.
    pass_ = _others_bought_pass(owner)
    return Target(kwargs={"kind": "pass", "code": str(pass_.code)}, snapshot=_pass_and_withdrawal_rows(pass_))


# Account


@idor_route("accounts:account_claim")
def _(owner):
    # An address the owner added and confirmed, with a guest booking made with it before.
    from allauth.account.models import EmailAddress

    from accounts.models import PendingClaim
    from tests.factories import BookingFactory

    added = f"added-{owner.pk}@example.com"
    EmailAddress.objects.create(user=owner, email=added, verified=True, primary=False)
    booking = BookingFactory(organiser=OrganiserFactory(), user=None, booker_email=added)
    claim = PendingClaim.objects.create(user=owner, email=added)
    return Target(
        kwargs={"code": claim.code},
        snapshot=rows(PendingClaim.objects.filter(pk=claim.pk), Booking.objects.filter(pk=booking.pk)),
    )
