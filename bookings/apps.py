from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"

    def ready(self):
        # Stripe's one webhook endpoint lives in memberships; booking payments are ours to apply.
        from bookings.services import booking_checkout_event
        from memberships.services import PAYMENT_CHECKOUT_HANDLERS

        if booking_checkout_event not in PAYMENT_CHECKOUT_HANDLERS:
            PAYMENT_CHECKOUT_HANDLERS.append(booking_checkout_event)
