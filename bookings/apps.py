from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"

    def ready(self):
        # Stripe's one webhook endpoint lives in memberships; booking payments are ours to apply.
        from bookings.services import booking_checkout_event, transfer_checkout_event
        from memberships.services import PAYMENT_CHECKOUT_HANDLERS
        from portal.celery import app

        for handler in (booking_checkout_event, transfer_checkout_event):
            if handler not in PAYMENT_CHECKOUT_HANDLERS:
                PAYMENT_CHECKOUT_HANDLERS.append(handler)
        # Expired waiting-list offers pass to the next person; raised capacities get offered.
        app.conf.beat_schedule = {
            **(app.conf.beat_schedule or {}),
            "waiting-list-offers": {"task": "bookings.tasks.waiting_list_offer_due", "schedule": 600.0},
        }
