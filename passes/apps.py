from django.apps import AppConfig


class PassesConfig(AppConfig):
    name = "passes"

    def ready(self):
        from passes import services
        from portal import stripe_events

        stripe_events.checkout_handler_register("pass", services.pass_checkout_event)
