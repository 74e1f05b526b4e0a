from django.apps import AppConfig


class VouchersConfig(AppConfig):
    name = "vouchers"

    def ready(self):
        # Stripe's one webhook endpoint lives in memberships. Registered after bookings' handler
        # (app order), so a booking whose Checkout expired is already released when we look.
        from memberships.services import PAYMENT_CHECKOUT_HANDLERS
        from vouchers.services import voucher_checkout_event

        if voucher_checkout_event not in PAYMENT_CHECKOUT_HANDLERS:
            PAYMENT_CHECKOUT_HANDLERS.append(voucher_checkout_event)
