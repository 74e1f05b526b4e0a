"""Domain errors. Their messages are safe to show to a booker or an organiser."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class PortalError(Exception):
    default_message = _("Something went wrong. Please try again.")

    def __init__(self, message=None):
        self.message = message or self.default_message
        super().__init__(str(self.message))


class Busy(PortalError):
    default_message = _("We're busy, please try again in a moment.")


class PaymentError(PortalError):
    default_message = _("The payment could not be taken. You have not been charged.")
