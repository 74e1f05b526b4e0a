from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PassesConfig(AppConfig):
    name = "passes"

    def ready(self):
        # Imported here, not above: models can load only once every app's config is. What this app
        # adds to the registries of the packages below it (portal, accounts) is declared here.
        from accounts import privacy
        from passes import selectors, services
        from passes.privacy import passes_anonymise
        from portal import navigation, stripe_events

        navigation.section_register(
            "passes",
            label=_("Passes"),
            url_name="passes:pass_list",
            order=30,
            visible=navigation.paid_sections_visible,
        )
        navigation.paid_reason_register("passes", selectors.pass_list_held)
        # Buying a pass and buying a gift voucher share a part of the organiser's page.
        navigation.organiser_page_part_register("passes", template="passes/_public_links.html", order=30)
        stripe_events.checkout_handler_register("pass", services.pass_checkout_event)
        privacy.register("passes", anonymise=passes_anonymise)
