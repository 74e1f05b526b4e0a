from django.apps import AppConfig


class PassesConfig(AppConfig):
    name = "passes"

    def ready(self):
        from accounts import privacy
        from passes import services
        from passes.privacy import passes_anonymise
        from portal import stripe_events

        stripe_events.checkout_handler_register("pass", services.pass_checkout_event)
        privacy.register("passes", anonymise=passes_anonymise)
