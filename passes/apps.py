from django.apps import AppConfig


class PassesConfig(AppConfig):
    name = "passes"

    def ready(self):
        # Stripe's one webhook endpoint lives in memberships; pass payments are ours to apply.
        from memberships.services import PAYMENT_CHECKOUT_HANDLERS
        from passes.services import pass_checkout_event

        if pass_checkout_event not in PAYMENT_CHECKOUT_HANDLERS:
            PAYMENT_CHECKOUT_HANDLERS.append(pass_checkout_event)
