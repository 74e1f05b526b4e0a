from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VouchersConfig(AppConfig):
    name = "vouchers"

    def ready(self):
        # Imported here, not above: models can load only once every app's config is. What this app
        # adds to the registries of the packages below it (portal, accounts) is declared here.
        from accounts import claims, privacy
        from portal import navigation, stripe_events
        from vouchers.privacy import vouchers_anonymise
        from vouchers.selectors import voucher_list_held, vouchers_found_for_email
        from vouchers.services import voucher_checkout_event

        # Vouchers sent to an address show in the account that proved (and claimed) it: nothing
        # to write when it is attached, only something to show before.
        claims.register("vouchers", find=vouchers_found_for_email, attach=lambda *, user, email: 0)

        navigation.section_register(
            "vouchers",
            label=_("Vouchers"),
            url_name="vouchers:voucher_list",
            order=40,
            visible=navigation.paid_sections_visible,
        )
        navigation.paid_reason_register("vouchers", voucher_list_held)
        stripe_events.checkout_handler_register("voucher", voucher_checkout_event)
        privacy.register("vouchers", anonymise=vouchers_anonymise)
