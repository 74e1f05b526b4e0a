"""Email fan-out: one Celery worker sends booking confirmations to a local SMTP sink.

    python -m bench.email_fanout

Makes BENCH_EMAILS confirmed bookings (not yet emailed) on a fresh event at the bench organiser,
enqueues one `bookings.tasks.booking_send_confirmation` per booking (the queue a burst of bookings
leaves behind), starts an aiosmtpd sink in this process and then a Celery worker (production
settings, SMTP email backend pointed at the sink, its own --pidfile, stopped by that pid), and
waits until the sink has them all. Reports the worker's emails/s (first email at the sink to the
last, so neither filling the queue nor the worker's start-up counts) and checks that every booking
got exactly one email (messages counted at the sink by the booking reference in the subject) and
that the database marks each one sent.
The bookings and event are deleted afterwards.

Env: BENCH_EMAILS (2000; the issue's figure is 10000), BENCH_WORKER_CONCURRENCY (the settings'
CELERY_WORKER_CONCURRENCY, two per CPU; "solo" for a single process), BENCH_WORKER_ARGS (more
celery worker options, e.g. --prefetch-multiplier=1), BENCH_DATABASE_URL, BENCH_REDIS_URL.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from email.parser import BytesHeaderParser

from bench import common

EMAILS = int(os.environ.get("BENCH_EMAILS", "2000"))
CONCURRENCY = os.environ.get("BENCH_WORKER_CONCURRENCY", "")  # "": the worker's own settings
EXTRA_WORKER_ARGS = os.environ.get("BENCH_WORKER_ARGS", "").split()  # e.g. "--prefetch-multiplier=8"
SUBJECT_REFERENCE = re.compile(r"\(([A-Z0-9]{6,12})\)\s*$")


class Sink:
    """aiosmtpd handler: counts messages by the booking reference in the subject. It reads the
    headers only: the sink shares the machine with the worker it measures."""

    def __init__(self):
        self.by_reference: Counter[str] = Counter()
        self.unparsed = 0
        self.first = self.last = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        subject = BytesHeaderParser().parsebytes(envelope.content)["Subject"] or ""
        match = SUBJECT_REFERENCE.search(str(subject))
        now = time.perf_counter()
        with self.lock:
            if match:
                self.by_reference[match.group(1)] += 1
            else:
                self.unparsed += 1
            self.first = self.first or now
            self.last = now
        return "250 Message accepted for delivery"

    @property
    def received(self) -> int:
        return sum(self.by_reference.values()) + self.unparsed


def make_bookings(count: int, run: str):
    from django.utils import timezone

    from bookings.models import Attendee, Booking, Event, TicketType
    from portal.models import Organiser

    organiser = Organiser.objects.get(slug="bench-riverside")
    starts = timezone.now() + timedelta(days=14)
    event = Event.objects.create(
        organiser=organiser,
        title=f"Fan-out {run}",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        capacity=count + 1,
    )
    ticket = TicketType.objects.create(organiser=organiser, event=event, name="Standard", price=0)
    bookings = Booking.objects.bulk_create(
        [
            Booking(
                organiser=organiser,
                event=event,
                reference=f"F{run}{i:06d}",
                booker_name=f"Fan {i}",
                booker_email=f"fan-{run}-{i}@bench.example",
                currency=organiser.currency,
            )
            for i in range(count + 1)  # one more, to warm the worker up
        ],
        batch_size=2000,
    )
    Attendee.objects.bulk_create(
        [
            Attendee(organiser=organiser, booking=b, ticket_type=ticket, name=b.booker_name, price=0)
            for b in bookings
        ],
        batch_size=2000,
    )
    return event, bookings


def remove(event) -> None:
    from django.db import transaction

    from bookings.models import Booking, Event

    with transaction.atomic():
        Booking.objects.filter(event=event).delete()
        Event.objects.filter(pk=event.pk).delete()


def start_worker(smtp_port: int):
    common.RUN_DIR.mkdir(parents=True, exist_ok=True)
    pidfile = common.RUN_DIR / f"celery-{smtp_port}.pid"
    log_path = common.RUN_DIR / f"celery-{smtp_port}.log"
    pool = ["--pool=solo"] if CONCURRENCY == "solo" else ["--pool=prefork"]
    if CONCURRENCY not in {"", "solo"}:
        pool.append(f"--concurrency={CONCURRENCY}")
    log = open(log_path, "w")
    process = subprocess.Popen(
        [
            common.PYTHON,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            *pool,
            "--loglevel=warning",
            f"--pidfile={pidfile}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            *EXTRA_WORKER_ARGS,
        ],
        cwd=common.ROOT,
        env=common.production_env(EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(smtp_port), EMAIL_USE_TLS="false"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return process, pidfile, log, log_path


def wait_for(sink: Sink, count: int, process, log_path, stall: float = 60) -> None:
    seen, since = -1, time.monotonic()
    while sink.received < count:
        if process.poll() is not None:
            raise RuntimeError(f"the Celery worker exited:\n{log_path.read_text()[-3000:]}")
        if sink.received != seen:
            seen, since = sink.received, time.monotonic()
        elif time.monotonic() - since > stall:
            print(f"No new email for {stall:.0f}s; stopping at {sink.received} of {count}.", file=sys.stderr)
            return
        time.sleep(0.05)


def main() -> int:
    common.setup_django()
    common.manage("migrate", "--noinput")
    import redis
    from aiosmtpd.controller import Controller

    from bookings.models import Booking
    from bookings.tasks import booking_send_confirmation

    redis.Redis.from_url(common.REDIS_URL).delete("celery")  # nothing left over from earlier runs
    run = time.strftime("%H%M%S")[-5:]
    event, bookings = make_bookings(EMAILS, run)
    bookings = bookings[1:]  # make_bookings makes one more, for a warm-up this run doesn't need
    started = time.perf_counter()
    for booking in bookings:
        booking_send_confirmation.delay(booking.pk)
    enqueued = time.perf_counter() - started
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=common.free_port())
    controller.start()
    worker = None
    try:
        worker_started = time.perf_counter()
        worker, pidfile, log, log_path = start_worker(controller.port)
        wait_for(sink, 1, worker, log_path, stall=120)
        # CPU from the first email on, which a busy shared machine inflates less than wall time:
        # the worker's processes and the database's backends.
        worker_cpu = common.cpu_seconds([worker.pid, *common.children(worker.pid)])
        db_cpu = common.cpu_seconds(common.database_backends())
        received_then = sink.received
        wait_for(sink, EMAILS, worker, log_path, stall=120)
        worker_used = common.cpu_used(
            worker_cpu, common.cpu_seconds([worker.pid, *common.children(worker.pid)])
        )
        db_used = common.cpu_used(db_cpu, common.cpu_seconds(common.database_backends()))
        measured = sink.received - received_then
        time.sleep(2)  # anything doubled would arrive now
    finally:
        if worker is not None:
            common._stop_by_pidfile(pidfile, worker, "celery worker", timeout=60)
            log.close()
            pidfile.unlink(missing_ok=True)
        controller.stop()
    references = {b.reference for b in bookings}
    counts = sink.by_reference
    missing = [r for r in references if counts[r] == 0]
    doubled = [r for r in references if counts[r] > 1]
    strangers = [r for r in counts if r not in references]
    marked = Booking.objects.filter(
        pk__in=[b.pk for b in bookings], confirmation_sent_at__isnull=False
    ).count()
    remove(event)
    received = sum(counts[r] for r in references)
    elapsed = (sink.last - sink.first) if sink.first else float("nan")
    rate = (received - 1) / elapsed if received > 1 and elapsed > 0 else 0.0
    ok = not missing and not doubled and not strangers and not sink.unparsed and marked == EMAILS
    from django.conf import settings

    pool = (
        "solo pool"
        if CONCURRENCY == "solo"
        else f"prefork, concurrency {CONCURRENCY or settings.CELERY_WORKER_CONCURRENCY}, "
        f"prefetch multiplier {settings.CELERY_WORKER_PREFETCH_MULTIPLIER}"
    )
    print(
        f"Email fan-out: {EMAILS:,} confirmation emails by one Celery worker ({pool}"
        f"{' ' + ' '.join(EXTRA_WORKER_ARGS) if EXTRA_WORKER_ARGS else ''}) "
        "to a local aiosmtpd sink (SMTP backend, one connection kept per worker process)"
    )
    print(
        common.table(
            ["figure", "value"],
            [
                ["emails/s (first email at the sink to the last)", f"{rate:.1f}"],
                ["time from first email to last (s)", f"{elapsed:.1f}"],
                [
                    "CPU per email, ms (worker + database)",
                    f"{worker_used / measured * 1000:.1f} + {db_used / measured * 1000:.1f}"
                    if measured
                    else "-",
                ],
                [
                    "time from starting the worker to last email (s)",
                    f"{(sink.last or worker_started) - worker_started:.1f}",
                ],
                ["time to enqueue all, before the worker started (s)", f"{enqueued:.1f}"],
                ["emails received", f"{sum(counts.values()):,}"],
                ["bookings with no email", len(missing)],
                ["bookings emailed twice or more", len(doubled)],
                ["emails for no such booking / unreadable", f"{len(strangers)} / {sink.unparsed}"],
                ["bookings marked sent in the database", f"{marked:,} of {EMAILS:,}"],
                ["every booking got exactly one email", "yes" if ok else "NO"],
            ],
        )
    )
    print(common.machine())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
