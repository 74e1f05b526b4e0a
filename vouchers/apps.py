from django.apps import AppConfig


class VouchersConfig(AppConfig):
    name = "vouchers"

    def ready(self):
        # Stripe's one webhook endpoint lives in memberships. Registered after bookings' handler
        # (app order), so a booking whose Checkout expired is already released when we look.
        from accounts import claims
        from memberships.services import PAYMENT_CHECKOUT_HANDLERS
        from vouchers.selectors import vouchers_found_for_email
        from vouchers.services import voucher_checkout_event

        # Vouchers sent to an address show in the account that proved (and claimed) it: nothing
        # to write when it is attached, only something to show before.
        claims.register("vouchers", find=vouchers_found_for_email, attach=lambda *, user, email: 0)

        if voucher_checkout_event not in PAYMENT_CHECKOUT_HANDLERS:
            PAYMENT_CHECKOUT_HANDLERS.append(voucher_checkout_event)
