from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal.exceptions import PortalError


class BookingError(PortalError):
    default_message = _("This booking could not be made.")


class EventFull(BookingError):
    default_message = _("Sorry, there are not enough places left. You can join the waiting list.")


ERRORS = {
    "cancelled": _("This event has been cancelled, so it can no longer be booked."),
    "started": _("This event has already started, so it can no longer be booked."),
    "no_tickets": _("Choose at least one ticket."),
    "ticket_full": _("Sorry, only %(left)s %(ticket)s ticket(s) are left."),
    "waiting_duplicate": _("You are already on the waiting list for this event."),
    "waiting_not_full": _("This event still has places: you can book it now."),
}
