from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal.exceptions import PortalError


class BookingError(PortalError):
    default_message = _("This booking could not be made.")


class OrganiserError(PortalError):
    """An organiser's change that can't be made; the admin shows the message."""

    default_message = _("That could not be done.")


class FormAlreadyUsed(BookingError):
    """A booking form's key names a booking this request may not land on (another browser's, or
    one made with other details). The booker gets the form again, with a fresh key."""

    default_message = _(
        "This booking form has already been used. Please check your details and send it again."
    )


class PriceChanged(BookingError):
    """The amount the booker saw on the pay button is not what the booking costs now (they chose
    a pass or voucher without JavaScript, or a balance changed): nothing is booked or charged."""

    default_message = _("The amount to pay has changed. Please check it and press the button again.")


class EventFull(BookingError):
    default_message = _("Sorry, there are not enough places left. You can join the waiting list.")


ERRORS = {
    "cancelled": _("This event has been cancelled, so it can no longer be booked."),
    "started": _("This event has already started, so it can no longer be booked."),
    "no_tickets": _("Choose at least one ticket."),
    "ticket_full": _("Sorry, only %(left)s %(ticket)s ticket(s) are left."),
    "waiting_duplicate": _("You are already on the waiting list for this event."),
    "pass_and_voucher": _("Pay with a pass or a voucher, not both."),
    "waiting_not_full": _("This event still has places: you can book it now."),
    "waiting_fewer_only": _(
        "You can only ask for fewer places, at least one (to ask for more, leave and join again)."
    ),
    "waiting_offer_held": _("Your places are already held for you: book as many as you need."),
    "waiting_closed": _("This waiting-list place is no longer open."),
    "waiting_not_waiting": _("%(name)s is not waiting (%(status)s): only a waiting place can be offered."),
    "waiting_no_free_places": _("There are no free places on %(event)s: raise its capacity first."),
    "waiting_too_few_places": _(
        "%(name)s needs %(needed)s places, %(free)s free, all together: raise the capacity first."
    ),
    "waiting_type_full": _(
        "%(name)s waits for %(ticket)s tickets: %(free)s free within that ticket type's own limit, "
        "%(needed)s needed. Raise its limit first."
    ),
    "waiting_ticket_type": _("Choose one of this event's tickets."),
    # The booker's own changes: transfer, cancel, waiting list.
    "not_confirmed": _("Only a confirmed booking can be changed."),
    "already_cancelled": _("This booking is already cancelled."),
    "event_cancelled": _("The organiser cancelled this event."),
    "event_started": _("This event has already started."),
    "transfers_off": _("%(organiser)s doesn't allow transfers for this event."),
    "transfer_pass_voucher": _(
        "Bookings paid with a pass or gift voucher can't be moved here: please ask %(organiser)s."
    ),
    "transfers_closed": _("Transfers close %(hours)s hours before the event."),
    "cancellations_off": _("%(organiser)s doesn't allow cancellations for this event."),
    "cancellations_closed": _("Cancellations close %(hours)s hours before the event."),
    "details_off": _("%(organiser)s doesn't let bookers change attendee details for this event."),
    "details_closed": _("Changes to attendee details close %(hours)s hours before the event."),
    "details_unchanged": _("Nothing was changed: edit a name or an answer first."),
    "gifts_off": _("%(organiser)s doesn't let bookers give tickets away for this event."),
    "gift_pass_voucher": _(
        "Tickets paid with a pass or gift voucher can't be given away here: please ask %(organiser)s."
    ),
    "gift_included": _(
        "Tickets paid with your membership's included bookings can't be given away here: please ask "
        "%(organiser)s."
    ),
    "gifts_closed": _("Giving tickets away closes %(hours)s hours before the event."),
    "gift_to_self": _("That is the address this booking was made with: give the ticket to someone else."),
    "gift_pending": _("This ticket is already offered to %(name)s: withdraw that offer first."),
    "gift_accepted": _("%(name)s has already accepted this ticket, so it can't be withdrawn."),
    "gift_closed": _(
        "This ticket can no longer be accepted: the offer was withdrawn, ran out or the booking changed."
    ),
    "target_not_allowed": _("Tickets for this event can't be moved to that one."),
    "same_ticket": _("That is the ticket you already have: choose another one."),
    "same_price_only": _("You can only swap to a ticket of the same price."),
    "no_dearer": _("You can only move to a ticket of the same price or cheaper."),
    "tickets_changed": _(
        "Some of those tickets are no longer on this booking. Please check it and choose again."
    ),
    "booking_changed": _("This booking changed while you were looking at it. Please check it and try again."),
    "transfer_seats_gone": _(
        "Sorry, the places on that event went while you were paying. Your payment is being refunded."
    ),
    "credit_offer_closed": _(
        "This choice has closed: your refund goes (or has gone) to the payment you made."
    ),
    "too_many_accounts": _(
        "Too many new accounts from here just now. Untick Create an account to book as a guest, "
        "or try again in an hour."
    ),
    "offer_invalid": _("This waiting-list offer has expired or was already used."),
    "offer_too_many": _("Your held place covers %(quantity)s ticket(s)."),
    "price_changed": _("The amount to pay is now %(amount)s. Please check it and press the button again."),
    "too_expensive": _(
        "Sorry, that comes to more than we can take in one payment. Please book fewer tickets at a time."
    ),
}

ORGANISER_ERRORS = {
    "event_ended": _("“%(event)s” has already ended, so it can no longer be cancelled."),
    "message_too_long": _("Keep the message to bookers to %(max)s characters."),
    "no_tracking": _(
        "Attendance tracking is not switched on for %(organiser)s, so attendance can't be marked."
    ),
    "bad_attendance": _("Choose Attended, Did not attend or Not marked."),
    "capacity_below_taken": _(
        "%(taken)s places are already booked, so the capacity can't be lower than that. "
        "To have fewer places, cancel bookings first."
    ),
    "capacity_below_held": _(
        "%(taken)s places are booked and %(held)s are held for people on the waiting list, so the "
        "capacity can't be lower than their total. To have fewer places, cancel bookings first, or "
        "wait until the offers are booked or run out."
    ),
}
