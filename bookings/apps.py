from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingsConfig(AppConfig):
    name = "bookings"

    def ready(self):
        # Imported here, not above: models can load only once every app's config is. What this app
        # adds to the registries of the packages below it (portal, accounts) is declared here.
        from accounts import claims, privacy
        from bookings import navigation as booking_navigation
        from bookings.claims import bookings_waiting_for_email
        from bookings.privacy import bookings_anonymise
        from bookings.services import (
            booking_checkout_event,
            bookings_claim_for_verified_email,
            bookings_found_for_email,
            transfer_checkout_event,
        )
        from portal import navigation, stripe_events

        navigation.section_register("events", label=_("Events"), url_name="bookings:event_list", order=10)
        navigation.paid_reason_register("bookings", booking_navigation.booking_list_with_paid_organisers)
        navigation.organiser_page_part_register(
            "events",
            template="bookings/_organiser_events.html",
            order=10,
            context=booking_navigation.organiser_page_events,
        )
        stripe_events.checkout_handler_register("booking", booking_checkout_event)
        stripe_events.checkout_handler_register("transfer", transfer_checkout_event)
        # Bookings and waiting-list places made with an address join the account that proves it.
        claims.register(
            "bookings",
            find=bookings_found_for_email,
            attach=bookings_claim_for_verified_email,
            waiting=bookings_waiting_for_email,
        )
        privacy.register("bookings", anonymise=bookings_anonymise)
