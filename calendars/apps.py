from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    name = "calendars"

    def ready(self):
        # What calendars adds to the packages below it: files on bookings' emails, parts of the
        # booker's pages, and what account deletion erases.
        from accounts import privacy
        from calendars import emails, parts
        from calendars.privacy import calendars_anonymise
        from portal import emails as portal_emails
        from portal import navigation

        portal_emails.attachments_register(
            "calendars", template_prefixes=set(emails.ICS_EMAILS), make=emails.booking_email_ics
        )
        navigation.page_part_register(
            "booking",
            "calendars",
            template="calendars/_booking_calendar.html",
            order=10,
            context=parts.booking_links,
        )
        navigation.page_part_register(
            "events", "calendars", template="calendars/_events_subscribe.html", order=10
        )
        navigation.page_part_register(
            "account",
            "calendars",
            template="calendars/_account_calendar.html",
            order=10,
            context=parts.account,
        )
        privacy.register("calendars", anonymise=calendars_anonymise)
