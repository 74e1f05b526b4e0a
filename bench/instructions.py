"""Instructions per booking POST and per confirmation email, counted by valgrind's callgrind: the
same count run after run whatever else the machine is doing (its speed swung by 60% from one
minute to the next here), so two versions of the code compare exactly.

    python -m bench.instructions                       # both scenarios, 100 iterations each
    BENCH_ITERATIONS=200 python -m bench.instructions booking

In-process, production settings, against the bench database (seeded by `make bench`):
- booking: the public booking form POSTed through Django's test client (every middleware, a new
  session, the confirmation task enqueued in Redis; no gunicorn);
- email: the confirmation task's body sending to an aiosmtpd sink in another process (no Celery).

Each scenario runs in its own process under callgrind with instrumentation off; the process turns
it on with callgrind_control for the measured loop only, so start-up and warm-up are not counted.
Needs valgrind (Debian's package). Env: BENCH_ITERATIONS (100), BENCH_DATABASE_URL, BENCH_REDIS_URL.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
import uuid

from bench import common

ITERATIONS = int(os.environ.get("BENCH_ITERATIONS", "100"))
WARM_UP = 30
SCENARIOS = ("booking", "email", "email_without_ics", "reminder")
CHILD = "BENCH_INSTRUCTIONS_SCENARIO"


def counting(on: bool) -> None:
    """Turn callgrind's counting on or off for this process."""
    subprocess.run(
        ["callgrind_control", "-i", "on" if on else "off", str(os.getpid())], check=True, capture_output=True
    )


def booking() -> None:
    from django.test import Client

    from bench.booking_contention import make_event, purge_queue, remove_event

    os.environ["BENCH_CAPACITY"] = str(ITERATIONS + WARM_UP + 10)
    event, ticket = make_event()
    client = Client(HTTP_HOST="127.0.0.1")
    path = f"/{event.organiser.slug}/events/{event.code}/"

    def post(n: int) -> None:
        client.cookies.clear()  # a new booker, without an account: a new session each time
        response = client.post(
            path,
            {
                f"qty_{ticket.pk}": "1",
                "booker_name": f"Counted {n}",
                "booker_email": f"counted-{n}@bench.example",
                "idempotency_key": uuid.uuid4().hex,
                "attendee_0_name": f"Counted {n}",
            },
        )
        assert response.status_code == 302, response.content[:2000]

    try:
        measure(post)
    finally:
        remove_event(event)
        purge_queue()


def email() -> None:
    from bench.email_fanout import make_bookings, remove
    from bookings import emails

    event, bookings = make_bookings(ITERATIONS + WARM_UP - 1, time.strftime("%H%M%S")[-5:])
    try:
        measure(lambda n: emails.booking_send_confirmation(booking_id=bookings[n].pk))
    finally:
        remove(event)


def email_without_ics() -> None:
    """The confirmation as it was before it carried the booking's calendar file (issue 22)."""
    from portal import emails

    emails._ATTACHMENTS.pop("calendars", None)
    email()


def reminder() -> None:
    """One reminder email (calendars.emails.reminder_send): its read, rules, .ics, two links."""
    from bench.reminder_fanout import make_bookings, remove
    from calendars import emails
    from calendars.models import Reminder

    events, bookings = make_bookings(ITERATIONS + WARM_UP, time.strftime("%H%M%S")[-5:])
    reminders = Reminder.objects.bulk_create(
        [Reminder(organiser_id=b.organiser_id, booking=b, hours_before=2) for b in bookings]
    )
    try:
        measure(lambda n: emails.reminder_send(reminder_id=reminders[n].pk))
    finally:
        remove(events)


def measure(one) -> None:
    """Warm up, then count ITERATIONS calls of `one(n)`, each framed as a request is (old or
    broken database connections closed before and after)."""
    from django.db import close_old_connections

    for n in range(WARM_UP):
        one(n)
    counting(True)
    for n in range(WARM_UP, WARM_UP + ITERATIONS):
        close_old_connections()
        one(n)
        close_old_connections()
    counting(False)


def run_child(scenario: str) -> None:
    sink = None
    extra = {}
    if scenario in {"email", "email_without_ics", "reminder"}:
        port = common.free_port()
        sink = subprocess.Popen(
            [common.PYTHON, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"]
        )
        extra = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(port), "EMAIL_USE_TLS": "false"}
        time.sleep(1.5)
    os.environ.update(common.production_env(CELERY_TASK_ALWAYS_EAGER="false", **extra))
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    import django

    django.setup()
    try:
        {"booking": booking, "email": email, "email_without_ics": email_without_ics, "reminder": reminder}[
            scenario
        ]()
    finally:
        if sink is not None:
            sink.terminate()
            sink.wait()


def count(scenario: str) -> int:
    """Instructions per iteration of `scenario`, from a process of its own under callgrind."""
    with tempfile.TemporaryDirectory() as folder:
        result = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={folder}/callgrind.out",
                common.PYTHON,
                "-m",
                "bench.instructions",
            ],
            cwd=common.ROOT,
            env={**os.environ, CHILD: scenario},
            capture_output=True,
            text=True,
        )
    collected = re.search(r"Collected : (\d+)", result.stderr)
    if result.returncode != 0 or not collected:
        raise RuntimeError(
            f"{scenario} under callgrind failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
        )
    return int(collected.group(1)) // ITERATIONS


def main() -> int:
    if scenario := os.environ.get(CHILD):
        run_child(scenario)
        return 0
    chosen = [s for s in sys.argv[1:] if s in SCENARIOS] or list(SCENARIOS)
    common.setup_django()
    common.manage("migrate", "--noinput")
    rows = [[scenario, f"{count(scenario) / 1e6:.2f}"] for scenario in chosen]
    print(
        f"Instructions per iteration (callgrind, in-process, {ITERATIONS} iterations after {WARM_UP} to warm up)"
    )
    print(common.table(["scenario", "million instructions"], rows))
    print(common.machine())
    return 0


if __name__ == "__main__":
    sys.exit(main())
