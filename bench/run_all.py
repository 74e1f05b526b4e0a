"""`make bench`: make the bench database if it is missing, seed it (small by default), and run the
page-load, booking-contention, email and reminder fan-out benchmarks one after the other.

Sizes come from the environment (small defaults so a run takes a few minutes):
  BENCH_ORGANISERS (20), BENCH_BOOKERS (500), BENCH_BOOKINGS (5000): seed_scale's sizes; the
      issue's scale is 1000 / 100000 / 1000000 (a rerun only tops up);
  BENCH_SECONDS (10) per page, BENCH_CLIENTS (20) and BENCH_CAPACITY (300) for contention,
  BENCH_EMAILS (2000; the issue's figure is 10000) for the fan-out;
  BENCH_REMINDERS (5000; issue 22's figure is 100000) for the reminders;
  BENCH_DATABASE_URL (postgres://postgres@127.0.0.1:5432/bp_bench), BENCH_REDIS_URL (db 10);
  BENCH_SKIP: comma-separated of page_load, booking_contention, email_fanout, reminder_fanout.
"""

from __future__ import annotations

import os
import subprocess
import sys

from bench import common


def ensure_database() -> None:
    import psycopg

    url = common.DATABASE_URL.replace("postgres://", "postgresql://", 1)
    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            print(f"Creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def main() -> int:
    ensure_database()
    common.manage("migrate", "--noinput")
    common.manage(
        "seed_scale",
        "--organisers",
        os.environ.get("BENCH_ORGANISERS", "20"),
        "--bookers",
        os.environ.get("BENCH_BOOKERS", "500"),
        "--bookings",
        os.environ.get("BENCH_BOOKINGS", "5000"),
        quiet=False,
    )
    skip = {s.strip() for s in os.environ.get("BENCH_SKIP", "").split(",") if s.strip()}
    failed = []
    for name in ("page_load", "booking_contention", "email_fanout", "reminder_fanout"):
        if name in skip:
            continue
        print(f"\n== {name}", flush=True)
        if subprocess.run([common.PYTHON, "-m", f"bench.{name}"], cwd=common.ROOT).returncode:
            failed.append(name)
    if failed:
        print(f"\nFailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
