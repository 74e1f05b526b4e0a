"""Bookings: the writes, one module per sub-domain. Each public function is one business
operation in one transaction, named `<entity>_<action>`.

- `booking`: making a booking (the request, seats, payment, Stripe's word on it, expiry);
- `changes`: the booker's cancel (of the booking or some tickets) and move;
- `details`: the booker correcting attendee names and form answers;
- `gifts`: the booker giving a ticket to someone else, who accepts it as a booking of their own;
- `waiting_list`: joining, offers of freed places, leaving;
- `refunds`: what goes back, how, and paying it;
- `events`: the organiser's cancel, capacity and attendance;
- `claims`: bookings joining the account that proves their address.

The capacity rule and the seat counters are `bookings.capacity`; reads (quotes, ticket choices,
places left) are `bookings.selectors`; signed links (also waiting-list offers) `bookings.links`.
Callers use this package's names: `services.booking_cancel(...)`.
"""

from bookings.services.refunds import (  # noqa: I001 - in dependency order
    booking_refund,
    booking_settle_cancellation,
    refund_credit_choose,
    refund_credit_offer,
    refund_give_back_pass_and_voucher,
    refund_pay,
    refunds_pay_after_credit_offer,
    refund_payment_after_cancellation,
    refund_record,
)
from bookings.services.booking import (
    Booker,
    BookingRequest,
    PlacedBooking,
    Submitted,
    TicketRequest,
    booking_checkout_event,
    booking_confirm_payment,
    booking_create,
    booking_expire,
    booking_lock,
    booking_place,
    booking_start_payment,
    booking_submit,
)
from bookings.services.waiting_list import (
    waiting_list_change_quantity,
    waiting_list_confirm,
    waiting_list_entries_close,
    waiting_list_join,
    waiting_list_leave,
    waiting_list_offer_by_hand,
    waiting_list_offer_due,
    waiting_list_offer_places,
    waiting_list_offer_places_now,
)
from bookings.services.changes import (
    booking_cancel,
    transfer_checkout_event,
    transfer_complete_payment,
    transfer_create,
    transfer_start_payment,
)
from bookings.services.details import booking_edit_details
from bookings.services.gifts import (
    booking_split_off,
    ticket_gift_accept,
    ticket_gift_create,
    ticket_gift_withdraw,
    ticket_gifts_expire_due,
)
from bookings.services.events import (
    CANCELLATION_MESSAGE_MAX,
    attendance_mark,
    event_cancel,
    event_capacity_check,
)
from bookings.services.claims import bookings_claim_for_verified_email, bookings_found_for_email

__all__ = [
    "CANCELLATION_MESSAGE_MAX",
    "Booker",
    "BookingRequest",
    "PlacedBooking",
    "Submitted",
    "TicketRequest",
    "attendance_mark",
    "booking_cancel",
    "booking_checkout_event",
    "booking_confirm_payment",
    "booking_create",
    "booking_edit_details",
    "booking_expire",
    "booking_lock",
    "booking_place",
    "booking_refund",
    "booking_settle_cancellation",
    "booking_split_off",
    "booking_start_payment",
    "booking_submit",
    "bookings_claim_for_verified_email",
    "bookings_found_for_email",
    "event_cancel",
    "event_capacity_check",
    "refund_give_back_pass_and_voucher",
    "refund_credit_choose",
    "refund_credit_offer",
    "refund_pay",
    "refunds_pay_after_credit_offer",
    "refund_payment_after_cancellation",
    "refund_record",
    "ticket_gift_accept",
    "ticket_gift_create",
    "ticket_gift_withdraw",
    "ticket_gifts_expire_due",
    "transfer_checkout_event",
    "transfer_complete_payment",
    "transfer_create",
    "transfer_start_payment",
    "waiting_list_change_quantity",
    "waiting_list_confirm",
    "waiting_list_entries_close",
    "waiting_list_join",
    "waiting_list_leave",
    "waiting_list_offer_by_hand",
    "waiting_list_offer_due",
    "waiting_list_offer_places",
    "waiting_list_offer_places_now",
]
