"""Reminder fan-out: beat's reminder job for many bookings of events that start within the
hour, then one Celery worker sends the reminders to a local SMTP sink.

    BENCH_DATABASE_URL=... BENCH_REDIS_URL=... python -m bench.reminder_fanout

Makes BENCH_REMINDERS confirmed bookings (made two days ago) spread over BENCH_REMINDER_EVENTS
events of one organiser, all starting in 90 minutes, under rules that remind 2 hours before (so
every one is due now). Runs `calendars.services.reminders_due` once in this process (it makes one
reminder row per booking and enqueues one `calendars.tasks.reminder_send` per reminder) and times
it, then starts the worker (production settings, SMTP backend pointed at an aiosmtpd sink in this
process, the fan-out benchmark's worker: bench/email_fanout.py) and waits until the sink has them
all. Reports emails/s from the first email at the sink to the last, CPU per email, and checks that
every booking got exactly one reminder (counted at the sink by the booking reference in the
subject) and that every reminder is stamped sent.

With BENCH_KILL_AT=N the worker is killed (SIGKILL, its pool processes too) once the sink has N
emails, and a second worker started: the tasks the first held come back after the visibility
timeout (CELERY_VISIBILITY_TIMEOUT, 20 s in this mode) and none may be sent twice.

Everything it made is deleted afterwards. Env: BENCH_REMINDERS (5000; the issue's figure is
100000), BENCH_REMINDER_EVENTS (50), BENCH_KILL_AT, BENCH_WORKER_CONCURRENCY, BENCH_WORKER_ARGS
(as email_fanout), BENCH_DATABASE_URL, BENCH_REDIS_URL.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from datetime import timedelta
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser

from bench import common, email_fanout

REMINDERS = int(os.environ.get("BENCH_REMINDERS", "5000"))
EVENTS = int(os.environ.get("BENCH_REMINDER_EVENTS", "50"))
KILL_AT = int(os.environ.get("BENCH_KILL_AT", "0"))


class Sink(email_fanout.Sink):
    """The fan-out's sink, reading subjects the way a mail program shows them: a reminder's says
    when, with an en dash, so its header is MIME-encoded (RFC 2047)."""

    async def handle_DATA(self, server, session, envelope):
        subject = BytesHeaderParser().parsebytes(envelope.content)["Subject"] or ""
        decoded = str(make_header(decode_header(str(subject))))
        match = email_fanout.SUBJECT_REFERENCE.search(decoded)
        now = time.perf_counter()
        with self.lock:
            if match:
                self.by_reference[match.group(1)] += 1
            else:
                self.unparsed += 1
            self.first = self.first or now
            self.last = now
        return "250 Message accepted for delivery"


def make_bookings(count: int, run: str):
    from django.utils import timezone

    from bookings.models import Attendee, Booking, BookingRules, Event, TicketType
    from portal.models import Organiser

    organiser, _ = Organiser.objects.get_or_create(
        slug="bench-reminders", defaults={"name": "Bench Reminders", "contact_email": "hello@bench.example"}
    )
    BookingRules.objects.update_or_create(
        organiser=organiser, event=None, defaults={"reminders": BookingRules.Reminders.HOURS_BEFORE}
    )
    starts = timezone.now() + timedelta(minutes=90)
    per_event = -(-count // EVENTS)
    events, tickets = [], []
    for n in range(EVENTS):
        event = Event.objects.create(
            organiser=organiser,
            title=f"Reminders {run} #{n}",
            venue="The Long Hall",
            what_to_bring="A mat and water",
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            capacity=per_event + 1,
        )
        events.append(event)
        tickets.append(TicketType.objects.create(organiser=organiser, event=event, name="Standard", price=0))
    bookings = Booking.objects.bulk_create(
        [
            Booking(
                organiser=organiser,
                event=events[i % EVENTS],
                reference=f"R{run}{i:06d}",
                booker_name=f"Reminded {i}",
                booker_email=f"remind-{run}-{i}@bench.example",
                currency=organiser.currency,
                confirmation_sent_at=timezone.now(),
            )
            for i in range(count)
        ],
        batch_size=2000,
    )
    Attendee.objects.bulk_create(
        [
            Attendee(
                organiser=organiser, booking=b, ticket_type=tickets[i % EVENTS], name=b.booker_name, price=0
            )
            for i, b in enumerate(bookings)
        ],
        batch_size=2000,
    )
    Booking.objects.filter(event__in=events).update(created_at=timezone.now() - timedelta(days=2))
    return events, bookings


def remove(events) -> None:
    from django.db import transaction

    from bookings.models import Booking, Event

    with transaction.atomic():
        # An event at a time: Django collects what a delete cascades to as lists of ids, and
        # 100,000 bookings' would be more parameters than a Postgres statement takes.
        for event in events:
            Booking.objects.filter(event=event).delete()  # their reminders go with them
        Event.objects.filter(pk__in=[e.pk for e in events]).delete()


def kill(worker) -> None:
    for pid in [*common.children(worker.pid), worker.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    worker.wait(timeout=30)


def main() -> int:
    if KILL_AT:
        os.environ["CELERY_VISIBILITY_TIMEOUT"] = "20"  # read by the workers started below
    common.setup_django()
    common.manage("migrate", "--noinput")
    import redis
    from aiosmtpd.controller import Controller
    from django.conf import settings

    from calendars import services
    from calendars.models import Reminder

    redis.Redis.from_url(common.REDIS_URL).delete("celery", "unacked", "unacked_index")
    run = time.strftime("%H%M%S")[-5:]
    events, bookings = make_bookings(REMINDERS, run)
    started = time.perf_counter()
    enqueued = len(services.reminders_due())
    beat_seconds = time.perf_counter() - started
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=common.free_port())
    controller.start()
    worker = None
    killed = False
    try:
        worker_started = time.perf_counter()
        worker, pidfile, log, log_path = email_fanout.start_worker(controller.port)
        email_fanout.wait_for(sink, 1, worker, log_path, stall=120)
        worker_cpu = common.cpu_seconds([worker.pid, *common.children(worker.pid)])
        db_cpu = common.cpu_seconds(common.database_backends())
        received_then = sink.received
        if KILL_AT:
            email_fanout.wait_for(sink, KILL_AT, worker, log_path, stall=120)
            kill(worker)
            log.close()
            pidfile.unlink(missing_ok=True)
            killed = True
            worker, pidfile, log, log_path = email_fanout.start_worker(controller.port)
            worker_cpu = {}  # CPU is measured for the undisturbed run only
        email_fanout.wait_for(sink, REMINDERS, worker, log_path, stall=120)
        worker_used = common.cpu_used(
            worker_cpu, common.cpu_seconds([worker.pid, *common.children(worker.pid)])
        )
        db_used = common.cpu_used(db_cpu, common.cpu_seconds(common.database_backends()))
        measured = sink.received - received_then
        time.sleep(25 if KILL_AT else 2)  # anything doubled would arrive now
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
    # by event: a list of 100,000 booking ids is more parameters than a Postgres statement takes
    stamped = Reminder.objects.filter(booking__event__in=events, sent_at__isnull=False).count()
    remove(events)
    received = sum(counts[r] for r in references)
    elapsed = (sink.last - sink.first) if sink.first else float("nan")
    rate = (received - 1) / elapsed if received > 1 and elapsed > 0 else 0.0
    ok = not missing and not doubled and not strangers and not sink.unparsed and stamped == REMINDERS
    pool = (
        "solo pool"
        if email_fanout.CONCURRENCY == "solo"
        else f"prefork, concurrency {email_fanout.CONCURRENCY or settings.CELERY_WORKER_CONCURRENCY}, "
        f"prefetch multiplier {settings.CELERY_WORKER_PREFETCH_MULTIPLIER}"
    )
    print(
        f"Reminder fan-out: {REMINDERS:,} reminders due in the same hour ({EVENTS} events), one Celery "
        f"worker ({pool}) to a local aiosmtpd sink{', killed once mid-run' if killed else ''}"
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
                    if measured and not killed
                    else "-",
                ],
                [
                    "beat job: make the reminders and enqueue them (s)",
                    f"{beat_seconds:.1f} ({enqueued:,} enqueued)",
                ],
                [
                    "time from starting the worker to last email (s)",
                    f"{(sink.last or worker_started) - worker_started:.1f}",
                ],
                ["emails received", f"{sum(counts.values()):,}"],
                ["bookings with no reminder", len(missing)],
                ["bookings reminded twice or more", len(doubled)],
                ["emails for no such booking / unreadable", f"{len(strangers)} / {sink.unparsed}"],
                ["reminders stamped sent in the database", f"{stamped:,} of {REMINDERS:,}"],
                ["every booking got exactly one reminder", "yes" if ok else "NO"],
            ],
        )
    )
    print(common.machine())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
