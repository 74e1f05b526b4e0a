from django.apps import AppConfig


class MembershipsConfig(AppConfig):
    name = "memberships"

    def ready(self):
        from memberships import services
        from portal import stripe_events

        # Every subscription-mode Checkout Session is a membership's, with or without our metadata.
        stripe_events.checkout_handler_register("membership", services.membership_checkout_event)
        stripe_events.checkout_handler_register("subscription", services.membership_checkout_event)
        stripe_events.event_handler_register(
            services.SUBSCRIPTION_EVENTS | services.INVOICE_EVENTS | services.CARD_EVENTS,
            services.membership_stripe_event,
        )
