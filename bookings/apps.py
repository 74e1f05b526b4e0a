from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"

    def ready(self):
        # Stripe's one webhook endpoint lives in memberships; booking payments are ours to apply.
        from accounts import claims
        from bookings.services import (
            booking_checkout_event,
            bookings_claim_for_verified_email,
            bookings_found_for_email,
            transfer_checkout_event,
        )
        from memberships.services import PAYMENT_CHECKOUT_HANDLERS
        from portal.celery import app

        for handler in (booking_checkout_event, transfer_checkout_event):
            if handler not in PAYMENT_CHECKOUT_HANDLERS:
                PAYMENT_CHECKOUT_HANDLERS.append(handler)
        # Bookings and waiting-list places made with an address join the account that proves it.
        claims.register("bookings", find=bookings_found_for_email, attach=bookings_claim_for_verified_email)
        # Expired waiting-list offers pass to the next person; raised capacities get offered.
        app.conf.beat_schedule = {
            **(app.conf.beat_schedule or {}),
            "waiting-list-offers": {"task": "bookings.tasks.waiting_list_offer_due", "schedule": 600.0},
        }
