from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self):
        # Imported here, not above: models can load only once every app's config is.
        from accounts import privacy, receivers  # noqa: F401  (receivers: allauth's signals)

        # portal keeps Stripe's copies of checkouts, which may quote a booker; it sits below
        # accounts, so accounts erases them for it.
        privacy.register("stripe-events", scrub=privacy.stripe_events_scrub)
        privacy.register("withdrawals", anonymise=privacy.withdrawals_anonymise)
