"""Create the demo data of DESIGN §6. Safe to run again: every row is found by a natural key."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from bookings import capacity
from bookings.models import Attendee, Booking, BookingRules, Event, TicketType, WaitingListEntry
from memberships.demo import seed_included_booking_use, seed_memberships
from passes.demo import PASS_CODE, seed_passes
from passes.models import Pass, PassRedemption
from portal.models import Organiser, OrganiserStaff
from vouchers.demo import RECEIVED_VOUCHER, seed_vouchers
from vouchers.models import Voucher, VoucherRedemption

DEMO_BOOKER = ("demo@example.com", "portal-demo-2026", "Demo Booker")
DEMO_STAFF = ("staff@riverside-yoga.example", "organiser-demo-2026", "Rosa Riverside")
DEMO_SUPERUSER = ("admin@bookerportal.example", "platform-admin-2026", "Platform Admin")


def cancelled_before(starts_at):
    """When a demo cancellation happened: three days before the event, and never in the future."""
    yesterday = timezone.make_aware(datetime.combine(timezone.localdate() - timedelta(days=1), time(9)))
    return min(starts_at - timedelta(days=3), yesterday)


class Command(BaseCommand):
    help = "Load the demo organisers, events, bookings and logins (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed although DEBUG is off (a demo server). Existing accounts are never changed.",
        )

    @transaction.atomic
    def handle(self, *args, **options):
        # The demo's passwords are in the README: in production they would be open doors.
        if not (settings.DEBUG or settings.TESTING or options["allow_production"]):
            raise CommandError(
                "DEBUG is off: this looks like production, and the demo logins' passwords are public. "
                "Run it with --allow-production only on a demo server."
            )
        booker = self.user(*DEMO_BOOKER)
        staff = self.user(*DEMO_STAFF, is_staff=True)
        self.user(*DEMO_SUPERUSER, is_staff=True, is_superuser=True)

        riverside = self.riverside_yoga()
        if staff.is_staff:  # not an ordinary account that happens to have the address
            OrganiserStaff.objects.update_or_create(
                organiser=riverside, user=staff, defaults={"role": OrganiserStaff.Role.OWNER}
            )
        self.riverside_bookings(riverside, booker)
        seed_memberships(riverside, booker)
        seed_passes(riverside, booker)
        seed_vouchers(riverside, booker)
        self.paid_with_pass_and_voucher(riverside, booker)
        self.paid_with_an_included_booking(riverside, booker)
        explorers = self.little_explorers()
        self.little_explorers_bookings(explorers, booker)
        # The bookings above are written as they are, past the services that keep the seat counters.
        capacity.seats_recount(events=Event.objects.filter(organiser__in=[riverside, explorers]), fix=True)

        self.stdout.write(
            self.style.SUCCESS(
                "Demo data is ready. Log in with (an account that existed keeps its password):"
            )
        )
        for email, password, role in [
            (DEMO_BOOKER[0], DEMO_BOOKER[1], "booker, at /accounts/login/"),
            (DEMO_STAFF[0], DEMO_STAFF[1], "riverside-yoga staff, at /admin/"),
            (DEMO_SUPERUSER[0], DEMO_SUPERUSER[1], "platform superuser, at /admin/"),
        ]:
            self.stdout.write(f"  {email} / {password}  ({role})")

    # People -------------------------------------------------------------------------------

    def user(self, email, password, name, *, is_staff=False, is_superuser=False) -> User:
        """The demo login, created if missing. An existing account is left exactly as it is: its
        owner may have changed the password, or someone else may have signed up with the address,
        and neither must get the public password, staff rights or a verified address from us."""
        user = User.objects.filter(email=email).first()
        if user is not None:
            return user
        user = User.objects.create_user(
            email=email, password=password, name=name, is_staff=is_staff, is_superuser=is_superuser
        )
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        return user

    # Organisers ---------------------------------------------------------------------------

    def riverside_yoga(self) -> Organiser:
        organiser, _ = Organiser.objects.update_or_create(
            slug="riverside-yoga",
            defaults={
                "name": "Riverside Yoga",
                "plan": Organiser.Plan.STANDARD,
                "attendance_tracking": True,
                "time_zone": "Europe/London",
                "currency": "GBP",
                "public_page_intro": "Small, friendly yoga classes by the river. All levels welcome.",
                "contact_email": "hello@riverside-yoga.example",
                "contact_phone": "+44 20 7946 0123",
                "address": "2 Towpath Lane, London",
                "accent_colour": "#0f766e",
            },
        )
        self.logo(organiser, "riverside-yoga-logo.png")
        self.rules(
            organiser,
            transfers_allowed=True,
            transfer_cutoff_hours=24,
            cancellations_allowed=True,
            cancellation_cutoff_hours=48,
            refund_method=BookingRules.RefundMethod.ORIGINAL,
            reminders=BookingRules.Reminders.BOTH,  # a day before, and two hours before
        )
        return organiser

    def little_explorers(self) -> Organiser:
        organiser, _ = Organiser.objects.update_or_create(
            slug="little-explorers",
            defaults={
                "name": "Little Explorers",
                "plan": Organiser.Plan.FREE,
                "attendance_tracking": False,
                "time_zone": "Europe/London",
                "currency": "GBP",
                "public_page_intro": "Play, music and outdoor adventures for children aged 1 to 8.",
                "contact_email": "play@little-explorers.example",
                "contact_phone": "+44 161 496 0456",
                "accent_colour": "#c2410c",
            },
        )
        self.logo(organiser, "little-explorers-logo.png")
        self.rules(
            organiser,
            transfers_allowed=False,
            cancellations_allowed=True,
            cancellation_cutoff_hours=24,
            refund_method=BookingRules.RefundMethod.ORIGINAL,
            details_cutoff_hours=2,  # parents fix a child's name or answers until shortly before
            gift_cutoff_hours=12,  # and may pass a child's place to another family
        )
        return organiser

    def logo(self, organiser, filename) -> None:
        """The demo logo (static/demo/), uploaded once: a second run keeps the file it made."""
        if organiser.logo and organiser.logo.storage.exists(organiser.logo.name):
            return
        with open(settings.BASE_DIR / "static" / "demo" / filename, "rb") as image:
            organiser.logo.save(filename, File(image), save=True)

    def rules(self, organiser, **values) -> None:
        BookingRules.objects.update_or_create(organiser=organiser, event=None, defaults=values)

    # Events -------------------------------------------------------------------------------

    def event(
        self,
        organiser,
        title,
        *,
        days,
        hour,
        minutes=60,
        capacity=20,
        tickets,
        cancelled=False,
        venue="",
        description="",
        what_to_bring="",
    ) -> Event:
        local_start = datetime.combine(timezone.localdate() + timedelta(days=days), time(hour))
        starts_at = timezone.make_aware(local_start, organiser.tzinfo)
        event, _ = Event.objects.update_or_create(
            organiser=organiser,
            title=title,
            defaults={
                "starts_at": starts_at,
                "ends_at": starts_at + timedelta(minutes=minutes),
                "capacity": capacity,
                "venue": venue,
                "description": description,
                "what_to_bring": what_to_bring,
                "status": Event.Status.CANCELLED if cancelled else Event.Status.SCHEDULED,
                "cancelled_at": cancelled_before(starts_at) if cancelled else None,
            },
        )
        for position, (name, price) in enumerate(tickets):
            TicketType.objects.update_or_create(
                organiser=organiser,
                event=event,
                name=name,
                defaults={"price": price, "position": position},
            )
        return event

    def booking(
        self,
        reference,
        event,
        *,
        user=None,
        name,
        email,
        attendees,
        cancelled_by="",
        payment_method=Booking.PaymentMethod.CARD,
    ) -> Booking:
        """attendees: (name, ticket name, is_child, attendance) tuples."""
        tickets = {t.name: t for t in event.ticket_types.all()}
        total = sum(tickets[ticket].price for _, ticket, _, _ in attendees)
        booking, _ = Booking.objects.update_or_create(
            reference=reference,
            defaults={
                "organiser": event.organiser,
                "event": event,
                "user": user,
                "booker_name": name,
                "booker_email": email,
                "status": Booking.Status.CANCELLED if cancelled_by else Booking.Status.CONFIRMED,
                "cancelled_by": cancelled_by,
                "cancelled_at": cancelled_before(event.starts_at) if cancelled_by else None,
                "total": total,
                "currency": event.organiser.currency,
                "payment_method": payment_method if total else Booking.PaymentMethod.FREE,
                "payment_reference": f"demo_{reference.lower()}" if total else "",
                "booked_from": f"/{event.organiser.slug}/",
            },
        )
        for attendee_name, ticket, is_child, attendance in attendees:
            Attendee.objects.update_or_create(
                booking=booking,
                name=attendee_name,
                defaults={
                    "organiser": event.organiser,
                    "ticket_type": tickets[ticket],
                    "is_child": is_child,
                    "price": tickets[ticket].price,
                    "attendance": attendance,
                },
            )
        return booking

    def waiting(
        self, event, *, user, name, email, quantity=1, accepts_fewer=False, joined_ago=timedelta(0)
    ) -> None:
        fields = {
            "organiser": event.organiser,
            "user": user,
            "name": name,
            "quantity": quantity,
            "accepts_fewer": accepts_fewer,
        }
        # As a join does: an event with one ticket type waits for that type; several, for any.
        types = list(event.ticket_types.all()[:2])
        fields["ticket_type"] = types[0] if len(types) == 1 else None
        # Joined with a proved address (the demo booker's own, verified): confirmed, in the queue.
        confirmed = {"status": WaitingListEntry.Status.WAITING, "confirmed_at": timezone.now() - joined_ago}
        WaitingListEntry.objects.update_or_create(
            event=event, email=email, defaults=fields, create_defaults={**fields, **confirmed}
        )

    def riverside_bookings(self, org, booker) -> None:
        unmarked, attended = Attendee.Attendance.UNMARKED, Attendee.Attendance.ATTENDED
        yoga = [("Drop-in", 1200), ("Concession", 800)]
        sunrise = self.event(
            org,
            "Sunrise Flow",
            days=4,
            hour=7,
            tickets=yoga,
            venue="Studio 1",
            description="An energising morning flow to start the day.",
            what_to_bring="Your own mat if you have one, water, layers for the cool-down.",
        )
        self.event(
            org,
            "Yin & Restore",
            days=10,
            hour=19,
            minutes=75,
            tickets=yoga,
            venue="Studio 2",
            description="Slow, deep stretches and a long relaxation.",
        )
        self.event(
            org,
            "Lunchtime Stretch",
            days=2,
            hour=12,
            minutes=45,
            tickets=yoga,
            venue="Studio 1",
            description="A gentle 45 minutes for desk-bound backs.",
        )
        basics = self.event(org, "Vinyasa Basics", days=-7, hour=18, tickets=yoga, venue="Studio 1")
        candlelit = self.event(
            org, "Candlelit Yoga", days=6, hour=20, tickets=yoga, venue="Studio 2", cancelled=True
        )
        full_moon = self.event(
            org,
            "Full Moon Workshop",
            days=14,
            hour=19,
            minutes=120,
            capacity=2,
            tickets=[("Workshop", 2500)],
            venue="The Boathouse",
            description="A two-hour workshop of breath, movement and rest.",
        )

        me = {"user": booker, "name": DEMO_BOOKER[2], "email": DEMO_BOOKER[0]}
        self.booking(
            "RYDEMO01",
            sunrise,
            **me,
            attendees=[
                ("Demo Booker", "Drop-in", False, unmarked),
                ("Sam Booker", "Concession", False, unmarked),
            ],
        )
        self.booking(
            "RYDEMO02",
            basics,
            **me,
            attendees=[
                ("Demo Booker", "Drop-in", False, attended),
                ("Alex Friend", "Drop-in", False, unmarked),
            ],
        )
        self.booking(
            "RYDEMO03",
            candlelit,
            **me,
            attendees=[("Demo Booker", "Drop-in", False, unmarked)],
            cancelled_by=Booking.CancelledBy.ORGANISER,
        )
        for ref, name, email in [
            ("RYFULL01", "Priya Shah", "priya@example.net"),
            ("RYFULL02", "Tom Hughes", "tom@example.net"),
        ]:
            self.booking(
                ref, full_moon, name=name, email=email, attendees=[(name, "Workshop", False, unmarked)]
            )
        self.waiting(full_moon, **me)

    def paid_with_pass_and_voucher(self, org, booker) -> None:
        """The history behind the demo pass's uses left and the gift voucher's balance: two classes
        booked with the pass (one past, one to come) and a past one paid from the voucher."""
        attended = Attendee.Attendance.ATTENDED
        yoga = [("Drop-in", 1200), ("Concession", 800)]
        me = {"user": booker, "name": DEMO_BOOKER[2], "email": DEMO_BOOKER[0]}
        hatha = self.event(org, "Gentle Hatha", days=-12, hour=10, tickets=yoga, venue="Studio 2")
        yin = Event.objects.get(organiser=org, title="Yin & Restore")
        slow = self.event(org, "Sunday Slow Flow", days=-30, hour=10, tickets=yoga, venue="Studio 1")
        held = Pass.objects.get(code=PASS_CODE)
        for reference, event, attendance in [
            ("RYDEMO04", hatha, attended),
            ("RYDEMO05", yin, Attendee.Attendance.UNMARKED),
        ]:
            booking = self.booking(
                reference, event, **me, attendees=[(DEMO_BOOKER[2], "Drop-in", False, attendance)]
            )
            Booking.objects.filter(pk=booking.pk).update(
                total=0, payment_method=Booking.PaymentMethod.PASS, payment_reference=""
            )
            PassRedemption.objects.update_or_create(
                booking=booking, defaults={"organiser": org, "booker_pass": held, "uses": 1}
            )
        booking = self.booking(
            "RYDEMO06", slow, **me, attendees=[(DEMO_BOOKER[2], "Drop-in", False, attended)]
        )
        Booking.objects.filter(pk=booking.pk).update(
            total=0, payment_method=Booking.PaymentMethod.VOUCHER, payment_reference=""
        )
        received = Voucher.objects.get(code=RECEIVED_VOUCHER[0])
        VoucherRedemption.objects.update_or_create(
            booking=booking, defaults={"organiser": org, "voucher": received, "amount": 1200}
        )

    def paid_with_an_included_booking(self, org, booker) -> None:
        """The demo booker's Monthly Unlimited includes 4 bookings a month: one went on the
        Lunchtime Stretch to come, so 3 are left this month."""
        stretch = Event.objects.get(organiser=org, title="Lunchtime Stretch")
        booking = self.booking(
            "RYDEMO07",
            stretch,
            user=booker,
            name=DEMO_BOOKER[2],
            email=DEMO_BOOKER[0],
            attendees=[(DEMO_BOOKER[2], "Drop-in", False, Attendee.Attendance.UNMARKED)],
        )
        left = seed_included_booking_use(booking)
        Booking.objects.filter(pk=booking.pk).update(
            total=0,
            included_amount=booking.total,
            included_reason=f"Monthly Unlimited: 1 included booking ({left} left this month)",
            payment_method=Booking.PaymentMethod.MEMBERSHIP,
            payment_reference="",
        )
        booking.attendees.update(included=True)  # the ticket the included booking paid for

    def little_explorers_bookings(self, org, booker) -> None:
        booked = Attendee.Attendance.UNMARKED
        kids = [("Child", 650), ("Adult", 0)]
        movers = self.event(
            org,
            "Mini Movers",
            days=5,
            hour=10,
            minutes=45,
            tickets=kids,
            venue="Village Hall",
            description="Music and movement for 1 to 4 year olds.",
        )
        forest = self.event(
            org,
            "Forest Explorers",
            days=-12,
            hour=10,
            minutes=90,
            tickets=kids,
            venue="Oak Wood car park",
            description="Den building and bug hunts.",
        )
        puppets = self.event(org, "Puppet Theatre", days=8, hour=14, tickets=kids, venue="Library")
        messy = self.event(
            org,
            "Messy Play",
            days=9,
            hour=10,
            capacity=1,
            tickets=kids,
            venue="Village Hall",
            description="Paint, sand and water. Bring spare clothes!",
        )

        me = {"user": booker, "name": DEMO_BOOKER[2], "email": DEMO_BOOKER[0]}
        self.booking(
            "LEDEMO01",
            movers,
            **me,
            attendees=[("Demo Booker", "Adult", False, booked), ("Maya Booker", "Child", True, booked)],
        )
        self.booking(
            "LEDEMO02",
            forest,
            **me,
            attendees=[
                ("Demo Booker", "Adult", False, booked),
                ("Maya Booker", "Child", True, booked),
                ("Leo Booker", "Child", True, booked),
            ],
        )
        self.booking(
            "LEDEMO03",
            puppets,
            **me,
            attendees=[("Maya Booker", "Child", True, booked)],
            cancelled_by=Booking.CancelledBy.BOOKER,
        )
        self.booking(
            "LEFULL01",
            messy,
            name="Jo Parker",
            email="jo@example.net",
            attendees=[("Ruby Parker", "Child", True, booked)],
        )
        # A guest ahead in the queue, then the demo booker and her child: two places, together.
        self.waiting(messy, user=None, name="Sam Lee", email="sam@example.net", joined_ago=timedelta(days=1))
        self.waiting(messy, **me, quantity=2)
