"""Where a page's time goes: its SQL, its CPU per request, and (optionally) a profile, measured
in-process with the production settings (DEBUG off, cached templates) against the bench database.

    python -m bench.profile_page "/portal/events/?tab=upcoming" 20            # bench-20
    python -m bench.profile_page "/portal/events/?tab=upcoming" 20 --profile  # + top functions
    python -m bench.profile_page "/portal/events/?tab=upcoming" 20 --explain  # + EXPLAIN ANALYZE
    python -m bench.profile_page "/portal/events/?tab=upcoming" 20 --cold     # every cache misses

CPU time (not wall time) is the figure: on a shared machine it moves much less with other
people's load. Compare a page with /portal/baseline/ run the same way.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time

from bench import common

LARGE_TABLES = ("bookings_booking", "bookings_attendee", "bookings_event", "accounts_user", "django_session")


def setup() -> None:
    env = common.production_env()
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "DJANGO_DEBUG",
        "PORTAL_TESTING",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "SECURE_SSL_REDIRECT",
        "SECURE_COOKIES",
        "SECURE_HSTS_SECONDS",
        "LOG_LEVEL",
        "CELERY_TASK_ALWAYS_EAGER",
        "PAYMENT_GATEWAY",
        "EMAIL_TO_FILES",
        "BENCH_VIEWS",
    ):
        os.environ[name] = env[name]
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    sys.path.insert(0, str(common.ROOT))
    import django

    django.setup()


def explain(sql: str, params) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path")
    parser.add_argument("booker", type=int, help="5, 20 or 500: which bench booker")
    parser.add_argument("-n", type=int, default=100, help="requests to time")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--cold", action="store_true", help="clear the cache before every request")
    args = parser.parse_args()
    setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from portal.management.commands.seed_scale import bench_email

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(email=bench_email(args.booker)))
    response = client.get(args.path)
    if response.status_code != 200:
        print(f"GET {args.path}: {response.status_code}", file=sys.stderr)
        return 1
    with CaptureQueriesContext(connection) as captured:
        client.get(args.path)
    print(
        f"{args.path} as {bench_email(args.booker)}: {len(captured.captured_queries)} queries, "
        f"{len(response.content) / 1024:.1f} KiB"
    )
    for query in captured.captured_queries:
        print(f"  {float(query['time']) * 1000:6.1f} ms  {query['sql'][:160]}")
    if args.explain:
        # The captured SQL has its parameters filled in: re-run each SELECT under EXPLAIN ANALYZE.
        for query in captured.captured_queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            plan = explain(sql, None)
            flag = [t for t in LARGE_TABLES if f"Seq Scan on {t}" in plan]
            print(
                f"\n-- {sql[:200]}\n{plan}" + (f"\n!! sequential scan on {', '.join(flag)}" if flag else "")
            )
    started = time.process_time()
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    from django.core.cache import cache

    for _ in range(args.n):
        if args.cold:
            cache.clear()  # every fragment cache misses (and the session is read from the database)
        client.get(args.path)
    if profiler:
        profiler.disable()
    cpu = (time.process_time() - started) / args.n * 1000
    print(
        f"CPU per request (this process: Django + test client): {cpu:.2f} ms over {args.n} requests"
        + (" (profiled: inflated)" if profiler else "")
    )
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
