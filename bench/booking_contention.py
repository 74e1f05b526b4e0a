"""Booking under contention: N clients POST the public booking form for the same event at once,
through gunicorn with production settings, until the event is full.

    python -m bench.booking_contention

Reports bookings/s end to end (POST through the view: form, service, row lock, session, redirect),
proves capacity held (seats counted in the database never exceed the event's capacity and equal
the bookings the clients were told about, and the event's seat counter), and samples
pg_stat_activity every 10 ms (oftener, the sampling itself took a noticeable share of the two
cores from what it measures) for the longest row-lock wait and the longest time a transaction sat idle in the app ("idle in
transaction": where a lock held across a network call would show). Each run makes its own event
at the bench organiser and deletes it (with its bookings) afterwards.

Env: BENCH_CLIENTS (20), BENCH_CAPACITY (300), BENCH_PRICE (0, minor units; >0 uses the offline
gateway's payment step), BENCH_WORKERS, BENCH_DATABASE_URL, BENCH_REDIS_URL.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from datetime import timedelta

from bench import common

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "20"))
CAPACITY = int(os.environ.get("BENCH_CAPACITY", "300"))
PRICE = int(os.environ.get("BENCH_PRICE", "0"))


def make_event():
    from django.utils import timezone

    from bookings.models import Event, TicketType
    from portal.models import Organiser

    organiser = Organiser.objects.get(slug="bench-riverside")
    starts = timezone.now() + timedelta(days=7)
    event = Event.objects.create(
        organiser=organiser,
        title=f"Contention {time.strftime('%H:%M:%S')}",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        capacity=CAPACITY,
    )
    ticket = TicketType.objects.create(organiser=organiser, event=event, name="Standard", price=PRICE)
    return event, ticket


def remove_event(event) -> None:
    from django.db import transaction

    from bookings.models import Booking, Event

    with transaction.atomic():
        Booking.objects.filter(event=event).delete()
        Event.objects.filter(pk=event.pk).delete()


def purge_queue() -> None:
    """The confirmations these bookings enqueued are not this benchmark's business: drop them."""
    import redis

    redis.Redis.from_url(common.REDIS_URL).delete("celery")


class LockSampler(threading.Thread):
    """Samples our database's backends: longest lock wait, longest transaction, longest time a
    transaction sat idle in the application while open, most waiters at once."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.lock_wait = self.transaction = self.idle_in_transaction = 0.0
        self.waiters = self.samples = 0
        self.backend_pid = None

    def run(self):
        import psycopg

        with psycopg.connect(
            common.DATABASE_URL.replace("postgres://", "postgresql://", 1), autocommit=True
        ) as conn:
            self.backend_pid = conn.info.backend_pid
            while not self.stop.is_set():
                row = conn.execute(
                    """SELECT
                      coalesce(extract(epoch FROM max(now() - query_start)
                        FILTER (WHERE wait_event_type = 'Lock')), 0),
                      coalesce(extract(epoch FROM max(now() - xact_start)
                        FILTER (WHERE xact_start IS NOT NULL)), 0),
                      coalesce(extract(epoch FROM max(now() - state_change)
                        FILTER (WHERE state = 'idle in transaction')), 0),
                      count(*) FILTER (WHERE wait_event_type = 'Lock')
                    FROM pg_stat_activity
                    WHERE datname = current_database() AND pid <> pg_backend_pid()
                      AND backend_type = 'client backend'"""
                ).fetchone()
                self.lock_wait = max(self.lock_wait, float(row[0]))
                self.transaction = max(self.transaction, float(row[1]))
                self.idle_in_transaction = max(self.idle_in_transaction, float(row[2]))
                self.waiters = max(self.waiters, row[3])
                self.samples += 1
                time.sleep(0.01)


def main() -> int:
    common.setup_django()
    common.prepare()
    from bookings.models import Attendee, Booking, Event

    event, ticket = make_event()
    path = f"/{event.organiser.slug}/events/{event.code}/"
    outcomes = {"booked": 0, "full": 0, "busy": 0, "error": 0}
    latencies: list[float] = []
    booked_at: list[float] = []
    lock = threading.Lock()
    try:
        with common.gunicorn() as (host, port, master):
            cookies, token = common.csrf(host, port, f"{path}?qty_{ticket.pk}=1")
            go = threading.Barrier(CLIENTS + 1)
            full = threading.Event()

            def client(n: int) -> None:
                go.wait()
                attempt = 0
                while not full.is_set():
                    attempt += 1
                    form = {
                        f"qty_{ticket.pk}": "1",
                        "booker_name": f"Contender {n}-{attempt}",
                        "booker_email": f"contender-{n}-{attempt}@bench.example",
                        "booker_phone": "",
                        "idempotency_key": uuid.uuid4().hex,
                        "attendee_0_name": f"Contender {n}-{attempt}",
                        "csrfmiddlewaretoken": token,
                    }
                    started = time.perf_counter()
                    try:
                        status, headers, body = common.request(
                            host, port, "POST", path, body=form, cookies={"csrftoken": cookies["csrftoken"]}
                        )
                    except OSError:
                        status, headers, body = 0, [], b""
                    took = time.perf_counter() - started
                    location = dict((k.lower(), v) for k, v in headers).get("location", "")
                    if status == 302 and "/portal/bookings/" in location:
                        outcome = "booked"
                    elif status == 200 and b"busy" in body:
                        outcome = "busy"
                    elif status == 200 and (
                        b"This event is full" in body or b"not enough places" in body or b"are left" in body
                    ):
                        outcome = "full"
                        full.set()
                    else:
                        outcome = "error"
                    with lock:
                        outcomes[outcome] += 1
                        latencies.append(took)
                        if outcome == "booked":
                            booked_at.append(time.perf_counter())
                    if outcome == "error" and outcomes["error"] > 20:
                        full.set()

            sampler = LockSampler()
            sampler.start()
            # CPU, which a busy shared machine inflates less than it does wall time: gunicorn's
            # workers and the database's backends (the sampler's own backend is left out).
            while sampler.backend_pid is None:
                time.sleep(0.01)

            def app_and_database_backends():
                backends = set(common.database_backends()) - {sampler.backend_pid}
                return common.cpu_seconds(common.children(master)), common.cpu_seconds(backends)

            app_cpu, db_cpu = app_and_database_backends()
            threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
            for thread in threads:
                thread.start()
            go.wait()
            started = time.perf_counter()
            for thread in threads:
                thread.join()
            app_after, db_after = app_and_database_backends()
            app_used, db_used = common.cpu_used(app_cpu, app_after), common.cpu_used(db_cpu, db_after)
            sampler.stop.set()
            sampler.join()
        taken = Attendee.objects.filter(
            booking__event=event, booking__status__in=[Booking.Status.CONFIRMED, Booking.Status.PENDING]
        ).count()
        counter = Event.objects.get(pk=event.pk).seats_taken
        bookings = Booking.objects.filter(event=event).exclude(status=Booking.Status.CANCELLED).count()
    finally:
        remove_event(event)
        purge_queue()

    requests = sum(outcomes.values())
    elapsed = (max(booked_at) - started) if booked_at else float("nan")
    rate = outcomes["booked"] / elapsed if booked_at else 0.0
    held = taken <= CAPACITY and taken == outcomes["booked"] == bookings == counter
    print(
        f"Booking under contention: {CLIENTS} clients POSTing the booking form for one event "
        f"(capacity {CAPACITY}, {'free' if not PRICE else f'price {PRICE}'}) through gunicorn "
        f"({common.WORKERS} sync workers) until it is full"
    )
    print(
        common.table(
            ["figure", "value"],
            [
                ["bookings/s (until full)", f"{rate:.1f}"],
                ["bookings confirmed to clients", outcomes["booked"]],
                [
                    "server CPU per request, ms (gunicorn + database)",
                    f"{app_used / requests * 1000:.1f} + {db_used / requests * 1000:.1f}"
                    if requests
                    else "-",
                ],
                [
                    "seats taken in the database (counted; the event's counter)",
                    f"{taken} of {CAPACITY}; {counter}",
                ],
                ["capacity held (no oversell)", "yes" if held else "NO"],
                [
                    "refused: full / busy / error",
                    f"{outcomes['full']} / {outcomes['busy']} / {outcomes['error']}",
                ],
                [
                    "POST p50 / p95 / p99 ms",
                    " / ".join(f"{common.percentile(latencies, q) * 1000:.0f}" for q in (50, 95, 99)),
                ],
                ["longest row-lock wait seen (ms)", f"{sampler.lock_wait * 1000:.0f}"],
                ["most requests waiting on a lock at once", sampler.waiters],
                ["longest transaction seen (ms)", f"{sampler.transaction * 1000:.0f}"],
                ["longest idle-in-transaction seen (ms)", f"{sampler.idle_in_transaction * 1000:.0f}"],
                ["pg_stat_activity samples", sampler.samples],
            ],
        )
    )
    print(common.machine())
    return 0 if held and not outcomes["error"] else 1


if __name__ == "__main__":
    sys.exit(main())
