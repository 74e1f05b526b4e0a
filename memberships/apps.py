from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembershipsConfig(AppConfig):
    name = "memberships"

    def ready(self):
        # Imported here, not above: models can load only once every app's config is. What this app
        # adds to the registries of the packages below it (portal, accounts, bookings' core) is
        # declared here.
        from accounts import privacy
        from bookings import pricing
        from memberships import privacy as membership_privacy
        from memberships import selectors, services
        from portal import navigation, stripe_events

        navigation.section_register(
            "memberships", label=_("Memberships"), url_name="memberships:membership_list", order=20
        )
        navigation.paid_reason_register("memberships", selectors.membership_list_with_paid_organisers)
        navigation.organiser_page_part_register("memberships", template="memberships/_offer.html", order=20)
        # Every subscription-mode Checkout Session is a membership's, with or without our metadata.
        stripe_events.checkout_handler_register("membership", services.membership_checkout_event)
        stripe_events.checkout_handler_register("subscription", services.membership_checkout_event)
        stripe_events.event_handler_register(
            services.SUBSCRIPTION_EVENTS | services.INVOICE_EVENTS | services.CARD_EVENTS,
            services.membership_stripe_event,
        )
        # A member's percentage off every booking at the plan's organiser.
        pricing.member_discount_register(services.membership_discount_offer)
        # The plan's included bookings, spent on bookings at its organiser (and given back).
        pricing.included_bookings_register("memberships", services.INCLUDED_BOOKINGS)
        # Deleting an account cancels the booker's memberships first, through the gateway.
        privacy.register(
            "memberships",
            end=membership_privacy.memberships_end,
            blocks=membership_privacy.memberships_started_since,
            anonymise=membership_privacy.memberships_anonymise,
            notes=membership_privacy.memberships_notes,
        )
