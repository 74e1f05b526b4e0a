"""Fill a database to platform scale for the benchmarks (bench/), in minutes.

    python manage.py seed_scale --organisers 1000 --bookers 100000 --bookings 1000000

Rows are made by the database itself (INSERT ... SELECT over generate_series, in batches that
each commit and print progress), so a million bookings take minutes, not hours. Seeded rows carry
markers (organiser slugs `scale-*`, emails `scale-*@bench.example`, references `SB*`); a second run
counts what is there and only tops up to the numbers asked for, and never shrinks anything.

It also makes the bench bookers the page-load benchmark logs in as (same data at any scale):
`bench-5@bench.example`, `bench-20@...`, `bench-500@...` (password BENCH_PASSWORD), each with N
upcoming and N past bookings of two attendees, two cancelled bookings, a waiting-list place, and
an active and an ended membership, two passes and a gift voucher, at two bench organisers
of their own.

Needs Postgres.
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.utils import timezone

from accounts.models import User
from bookings import capacity
from bookings.models import Attendee, Booking, BookingRules, Event, TicketType, WaitingListEntry
from memberships.models import Membership, MembershipPlan
from passes.models import Pass, PassType
from portal.models import Organiser
from vouchers.models import Voucher

BENCH_PASSWORD = "bench-portal-2026"


def _proved(user) -> None:
    # Password logins need a confirmed address (ACCOUNT_EMAIL_VERIFICATION = "mandatory").
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )


BENCH_SIZES = (5, 20, 500)
BENCH_EVENTS = 520  # upcoming and past events at each bench organiser: enough for bench-500
SCALE_ORG = "scale-"
SCALE_EMAIL_DOMAIN = "@bench.example"
SCALE_REFERENCE = "SB"
BATCH = 100_000


def bench_email(size: int) -> str:
    return f"bench-{size}{SCALE_EMAIL_DOMAIN}"


def insert_select(model, exprs: dict[str, str], from_sql: str, params: list | tuple = ()) -> int:
    """INSERT INTO model's table SELECT exprs FROM from_sql; every other concrete column gets its
    field default, so a column added to the model later does not break the seed."""
    for column, expr in exprs.items():
        if "%s" in expr:
            raise CommandError(f"{column}: pass values into FROM, not into the select expressions")
    columns, values, defaults = [], [], []
    for field in model._meta.concrete_fields:
        if isinstance(field, models.AutoField | models.BigAutoField):
            continue
        columns.append(field.column)
        if field.column in exprs:
            values.append(exprs[field.column].replace("%", "%%"))
        elif field.column in ("created_at", "updated_at"):
            values.append("now()")
        elif field.null and not field.has_default():
            values.append("NULL")
        else:
            values.append("%s")
            defaults.append(field.get_db_prep_save(field.get_default(), connection))
    unknown = set(exprs) - set(columns)
    if unknown:
        raise CommandError(f"{model.__name__} has no column(s) {sorted(unknown)}")
    sql = f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM {from_sql}"
    with connection.cursor() as cursor:
        # The defaults' placeholders come first (in the SELECT list), then FROM's.
        cursor.execute(sql, [*defaults, *params])
        return cursor.rowcount


class Command(BaseCommand):
    help = "Bulk-create organisers, bookers and bookings at scale for the benchmarks (tops up on rerun)."

    def add_arguments(self, parser):
        parser.add_argument("--organisers", type=int, default=20)
        parser.add_argument("--bookers", type=int, default=500)
        parser.add_argument("--bookings", type=int, default=5000)
        parser.add_argument("--events-per-organiser", type=int, default=40)

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("seed_scale needs Postgres (set DATABASE_URL=postgres://...).")
        self.started = time.monotonic()
        self.organisers(options["organisers"], options["events_per_organiser"])
        self.bookers(options["bookers"])
        self.bookings(options["bookings"])
        self.bench_bookers()
        self.bench_passes_and_vouchers()
        # The rows above went in by SQL, past the services that keep the events' seat counters.
        self.say(f"seat counters: {capacity.seats_recount_unlocked(Event.objects.all()):,} events counted")
        with connection.cursor() as cursor:
            for model in (Organiser, User, Event, TicketType, Booking, Attendee):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
        self.say(
            f"Done: {Organiser.objects.count():,} organisers, {User.objects.count():,} users, "
            f"{Event.objects.count():,} events, {Booking.objects.count():,} bookings, "
            f"{Attendee.objects.count():,} attendees."
        )
        self.say(f"Bench bookers: {', '.join(bench_email(n) for n in BENCH_SIZES)} / {BENCH_PASSWORD}")

    def say(self, message: str) -> None:
        self.stdout.write(f"[{time.monotonic() - self.started:7.1f}s] {message}")
        self.stdout.flush()

    # Organisers, their events and ticket types ---------------------------------------------

    def organisers(self, wanted: int, per_organiser: int) -> None:
        have = Organiser.objects.filter(slug__startswith=SCALE_ORG).count()
        if have >= wanted:
            self.say(f"organisers: {have:,} already (asked for {wanted:,}); none added")
        else:
            Organiser.objects.bulk_create(
                [
                    Organiser(
                        slug=f"{SCALE_ORG}{i:05d}",
                        name=f"Scale Organiser {i}",
                        plan=Organiser.Plan.STANDARD if i % 2 else Organiser.Plan.FREE,
                        attendance_tracking=i % 3 == 0,
                        contact_email=f"hello@scale-{i:05d}.example",
                    )
                    for i in range(have, wanted)
                ],
                batch_size=1000,
            )
            self.say(f"organisers: {wanted - have:,} added ({wanted:,} in all)")
        # Events for organisers that have none yet: half in the past year, half in the next.
        with transaction.atomic():
            added = insert_select(
                Event,
                {
                    "organiser_id": "o.id",
                    "code": "gen_random_uuid()",
                    "title": "'Class ' || k",
                    "venue": "'Studio ' || (k % 3 + 1)",
                    "starts_at": "date_trunc('hour', now()) + ((k * 17) % 730 - 365) * interval '1 day'"
                    " + (k % 10) * interval '1 hour'",
                    "ends_at": "date_trunc('hour', now()) + ((k * 17) % 730 - 365) * interval '1 day'"
                    " + (k % 10) * interval '1 hour' + interval '1 hour'",
                    "capacity": "100000",
                    "status": "CASE WHEN k % 25 = 0 THEN 'cancelled' ELSE 'scheduled' END",
                    "cancelled_at": "CASE WHEN k % 25 = 0 THEN now() ELSE NULL END",
                    "description": "''",
                },
                "portal_organiser o CROSS JOIN generate_series(1, %s) k "
                "WHERE o.slug LIKE 'scale-%%' AND NOT EXISTS "
                "(SELECT 1 FROM bookings_event e WHERE e.organiser_id = o.id)",
                [per_organiser],
            )
            self.ticket_types()
        self.say(f"events: {added:,} added")

    def ticket_types(self) -> int:
        return insert_select(
            TicketType,
            {
                "organiser_id": "e.organiser_id",
                "event_id": "e.id",
                "name": "'Standard'",
                "price": "CASE WHEN e.id % 3 = 0 THEN 0 ELSE 1500 END",
                "position": "0",
            },
            "bookings_event e WHERE NOT EXISTS (SELECT 1 FROM bookings_tickettype t WHERE t.event_id = e.id)",
        )

    # Bookers -------------------------------------------------------------------------------

    def bookers(self, wanted: int) -> None:
        have = User.objects.filter(email__startswith="scale-", email__endswith=SCALE_EMAIL_DOMAIN).count()
        if have >= wanted:
            self.say(f"bookers: {have:,} already (asked for {wanted:,}); none added")
            return
        for start in range(have, wanted, BATCH):
            end = min(start + BATCH, wanted)
            with transaction.atomic():
                insert_select(
                    User,
                    {
                        # Unusable password ("!" prefix): nobody logs in as these; no hashing cost.
                        "password": "'!' || md5(g::text)",
                        "email": "'scale-' || lpad(g::text, 7, '0') || '@bench.example'",
                        "name": "'Scale Booker ' || g",
                        "is_superuser": "false",
                        "is_staff": "false",
                        "is_active": "true",
                        "date_joined": "now()",
                    },
                    "generate_series(%s::bigint, %s::bigint) g",
                    [start, end - 1],
                )
            self.say(f"bookers: {end:,}/{wanted:,}")

    # Bookings and their attendees ------------------------------------------------------------

    def bookings(self, wanted: int) -> None:
        have = Booking.objects.filter(reference__startswith=SCALE_REFERENCE).count()
        if have >= wanted:
            self.say(f"bookings: {have:,} already (asked for {wanted:,}); none added")
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS seed_events AS SELECT row_number() OVER (ORDER BY e.id) n, "
                "e.id, e.organiser_id, e.starts_at, e.status, t.id ticket_type_id, t.price "
                "FROM bookings_event e JOIN portal_organiser o ON o.id = e.organiser_id "
                "JOIN bookings_tickettype t ON t.event_id = e.id WHERE o.slug LIKE 'scale-%'"
            )
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS seed_users AS SELECT row_number() OVER (ORDER BY id) n, id, "
                "email, name FROM accounts_user WHERE email LIKE 'scale-%@bench.example'"
            )
            cursor.execute("CREATE UNIQUE INDEX IF NOT EXISTS seed_events_n ON seed_events (n)")
            cursor.execute("CREATE UNIQUE INDEX IF NOT EXISTS seed_users_n ON seed_users (n)")
            cursor.execute("SELECT (SELECT count(*) FROM seed_events), (SELECT count(*) FROM seed_users)")
            n_events, n_users = cursor.fetchone()
        if not n_events or not n_users:
            raise CommandError("Seed organisers and bookers first (--organisers and --bookers above 0).")
        for start in range(have, wanted, BATCH):
            end = min(start + BATCH, wanted)
            with transaction.atomic():
                insert_select(
                    Booking,
                    {
                        "organiser_id": "e.organiser_id",
                        "reference": "'SB' || lpad(g::text, 8, '0')",
                        "event_id": "e.id",
                        # One booking in ten was made as a guest, without an account.
                        "user_id": "CASE WHEN g % 10 = 9 THEN NULL ELSE u.id END",
                        "booker_name": "u.name",
                        "booker_email": "u.email",
                        "booker_phone": "''",
                        "status": "CASE WHEN e.status = 'cancelled' OR g % 14 = 0 THEN 'cancelled' "
                        "ELSE 'confirmed' END",
                        "cancelled_by": "CASE WHEN e.status = 'cancelled' THEN 'organiser' "
                        "WHEN g % 14 = 0 THEN 'booker' ELSE '' END",
                        "cancelled_at": "CASE WHEN e.status = 'cancelled' OR g % 14 = 0 THEN now() END",
                        "total": "e.price",
                        "currency": "'GBP'",
                        "payment_method": "CASE WHEN e.price > 0 THEN 'card' ELSE 'free' END",
                        "booked_from": "'/scale/'",
                        "link_secret": "substr(md5(g::text || random()::text), 1, 22)",
                        "confirmation_sent_at": "now()",
                    },
                    "generate_series(%s::bigint, %s::bigint) g "
                    "JOIN seed_events e ON e.n = 1 + (g * 7919) %% %s "
                    "JOIN seed_users u ON u.n = 1 + g %% %s",
                    [start, end - 1, n_events, n_users],
                )
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT min(id), max(id) FROM bookings_booking WHERE reference BETWEEN %s AND %s",
                        [f"SB{start:08d}", f"SB{end - 1:08d}"],
                    )
                    low, high = cursor.fetchone()
                insert_select(
                    Attendee,
                    {
                        "organiser_id": "b.organiser_id",
                        "booking_id": "b.id",
                        "ticket_type_id": "e.ticket_type_id",
                        "name": "b.booker_name",
                        "is_child": "false",
                        "price": "e.price",
                        "attendance": "'unmarked'",
                    },
                    "bookings_booking b JOIN seed_events e ON e.id = b.event_id "
                    "WHERE b.id BETWEEN %s AND %s AND b.reference LIKE 'SB%%'",
                    [low, high],
                )
            self.say(f"bookings: {end:,}/{wanted:,} (one attendee each)")

    # The bench bookers -------------------------------------------------------------------------

    @transaction.atomic
    def bench_bookers(self) -> None:
        riverside = self.bench_organiser(
            "bench-riverside", "Bench Riverside", Organiser.Plan.STANDARD, attendance=True
        )
        explorers = self.bench_organiser("bench-explorers", "Bench Explorers", Organiser.Plan.FREE)
        upcoming, past = [], []
        for organiser in (riverside, explorers):
            events = list(Event.objects.filter(organiser=organiser).prefetch_related("ticket_types"))
            if not events:
                events = self.bench_events(organiser)
            now = timezone.now()
            upcoming.append([e for e in events if e.starts_at > now and not e.is_cancelled])
            past.append([e for e in events if e.starts_at <= now])
        # Alternate organisers, so each booker's list spans two tenants.
        upcoming = [e for pair in zip(*upcoming, strict=False) for e in pair]
        past = [e for pair in zip(*past, strict=False) for e in pair]
        plan, _ = MembershipPlan.objects.get_or_create(
            organiser=riverside, name="Bench Monthly", defaults={"price": 5000, "discount_percent": 10}
        )
        for size in BENCH_SIZES:
            email = bench_email(size)
            existing = User.objects.filter(email=email).first()
            if existing is not None:
                _proved(existing)
                self.say(f"{email}: already there")
                continue
            user = User.objects.create(
                email=email, name=f"Bench Booker {size}", password=make_password(BENCH_PASSWORD)
            )
            _proved(user)
            bookings = []
            for i, event in enumerate(upcoming[:size] + past[:size]):
                bookings.append(self.bench_booking(user, event, f"BB{size:03d}{i:04d}"))
            for i, event in enumerate(upcoming[size : size + 2]):
                bookings.append(self.bench_booking(user, event, f"BC{size:03d}{i:04d}", cancelled=True))
            Booking.objects.bulk_create(bookings, batch_size=1000)
            Attendee.objects.bulk_create(
                [
                    Attendee(
                        organiser=b.organiser,
                        booking=b,
                        ticket_type=b.event.ticket_types.all()[0],
                        name=name,
                        is_child=child,
                        price=b.total // 2,
                        attendance=Attendee.Attendance.ATTENDED
                        if b.event.starts_at <= timezone.now()
                        else Attendee.Attendance.UNMARKED,
                    )
                    for b in bookings
                    for name, child in ((user.name, False), (f"Child of {size}", True))
                ],
                batch_size=1000,
            )
            waiting_event = upcoming[size + 2]
            WaitingListEntry.objects.create(
                organiser=waiting_event.organiser,
                event=waiting_event,
                user=user,
                name=user.name,
                email=email,
                status=WaitingListEntry.Status.WAITING,
                confirmed_at=timezone.now(),
            )
            for status, ended in (
                (Membership.Status.ACTIVE, None),
                (Membership.Status.CANCELED, timezone.now()),
            ):
                Membership.objects.create(
                    organiser=riverside,
                    plan=plan,
                    user=user,
                    status=status,
                    gateway="offline",
                    started_at=timezone.now() - timedelta(days=90),
                    current_period_start=timezone.now() - timedelta(days=10),
                    current_period_end=timezone.now() + timedelta(days=20),
                    ended_at=ended,
                    card_brand="visa",
                    card_last4="4242",
                )
            self.say(f"{email}: {size} upcoming + {size} past + 2 cancelled bookings, 2 memberships")

    @transaction.atomic
    def bench_passes_and_vouchers(self) -> None:
        """Two passes (one with uses left, one used up) and a gift voucher for each bench booker."""
        riverside = Organiser.objects.get(slug="bench-riverside")
        pass_type, _ = PassType.objects.get_or_create(
            organiser=riverside, name="Bench five-class pass", defaults={"price": 6000, "uses_included": 5}
        )
        now = timezone.now()
        for size in BENCH_SIZES:
            user = User.objects.get(email=bench_email(size))
            if Pass.objects.filter(user=user).exists():
                continue
            for uses_left in (3, 0):
                Pass.objects.create(
                    organiser=riverside,
                    pass_type=pass_type,
                    user=user,
                    buyer_email=user.email,
                    status=Pass.Status.ACTIVE,
                    uses_included=5,
                    uses_left=uses_left,
                    valid_from=now - timedelta(days=30),
                    valid_until=now + timedelta(days=60),
                    price=6000,
                    currency=riverside.currency,
                    paid_at=now - timedelta(days=30),
                )
            Voucher.objects.create(
                organiser=riverside,
                source=Voucher.Source.BOUGHT,
                status=Voucher.Status.ACTIVE,
                value=5000,
                balance=3500,
                currency=riverside.currency,
                buyer=user,
                buyer_email=user.email,
                recipient_name="A Friend",
                recipient_email=f"friend-{size}@bench.example",
                paid_at=now,
            )
            self.say(f"{user.email}: 2 passes, 1 voucher")

    def bench_organiser(self, slug, name, plan, attendance=False) -> Organiser:
        organiser, _ = Organiser.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "plan": plan,
                "attendance_tracking": attendance,
                "contact_email": f"hello@{slug}.example",
            },
        )
        BookingRules.objects.get_or_create(
            organiser=organiser,
            event=None,
            defaults={"transfers_allowed": True, "cancellations_allowed": True},
        )
        return organiser

    def bench_events(self, organiser) -> list[Event]:
        start = timezone.now().replace(minute=0, second=0, microsecond=0)
        events = Event.objects.bulk_create(
            [
                Event(
                    organiser=organiser,
                    title=f"{organiser.name} class {i}",
                    venue="Main studio",
                    starts_at=start + timedelta(hours=sign * (6 + i * 12)),
                    ends_at=start + timedelta(hours=sign * (6 + i * 12) + 1),
                    capacity=100,
                )
                for sign in (1, -1)
                for i in range(BENCH_EVENTS)
            ]
        )
        TicketType.objects.bulk_create(
            [TicketType(organiser=organiser, event=e, name="Standard", price=1200) for e in events]
        )
        return list(Event.objects.filter(organiser=organiser).prefetch_related("ticket_types"))

    def bench_booking(self, user, event, reference, cancelled=False) -> Booking:
        price = event.ticket_types.all()[0].price
        return Booking(
            organiser=event.organiser,
            event=event,
            user=user,
            reference=reference,
            booker_name=user.name,
            booker_email=user.email,
            status=Booking.Status.CANCELLED if cancelled else Booking.Status.CONFIRMED,
            cancelled_by=Booking.CancelledBy.BOOKER if cancelled else "",
            cancelled_at=timezone.now() if cancelled else None,
            total=price * 2,
            currency=event.organiser.currency,
            payment_method=Booking.PaymentMethod.CARD,
            booked_from=f"/{event.organiser.slug}/",
            confirmation_sent_at=timezone.now(),
        )
