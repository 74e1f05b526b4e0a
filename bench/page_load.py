"""Page load: logged-in bookers against gunicorn with production settings, for a fixed time each.

    python -m bench.page_load            # after: python manage.py seed_scale (any size)

Each scenario is a page and a bench booker (seed_scale's bench-5, bench-20, bench-500). Scenarios
run in BENCH_ROUNDS interleaved rounds of BENCH_SECONDS/BENCH_ROUNDS each (the machine is shared:
interleaving spreads any noise over every page alike), BENCH_CONCURRENCY clients at once. The
figure that matters is each page's throughput as a share of the baseline view's (login, session,
layout, no data). Env: BENCH_SECONDS (10), BENCH_ROUNDS (2), BENCH_CONCURRENCY (4),
BENCH_WORKERS (CPU count), BENCH_ONLY (comma-separated scenario names), BENCH_JSON (write figures).
"""

from __future__ import annotations

import json
import os
import sys
import time

from bench import common

CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "4"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))

# (name, booker, path): "upcoming 20" is the Events page's Upcoming tab for bench-20 (20 upcoming bookings)
SCENARIOS = [
    ("baseline", 20, "/portal/baseline/"),
    ("upcoming 5", 5, "/portal/events/?tab=upcoming"),
    ("upcoming 20", 20, "/portal/events/?tab=upcoming"),
    ("upcoming 500", 500, "/portal/events/?tab=upcoming"),
    ("past 20", 20, "/portal/events/?tab=past"),
    ("past 500", 500, "/portal/events/?tab=past"),
    ("cancelled 20", 20, "/portal/events/?tab=cancelled"),
    ("waiting 20", 20, "/portal/events/?tab=waiting"),
    ("passes 20", 20, "/portal/passes/"),
    ("memberships 20", 20, "/portal/memberships/"),
    ("vouchers 20", 20, "/portal/vouchers/"),
]


def database_size() -> str:
    import psycopg

    with psycopg.connect(common.DATABASE_URL.replace("postgres://", "postgresql://", 1)) as conn:
        bookings = conn.execute("SELECT count(*) FROM bookings_booking").fetchone()[0]
        users = conn.execute("SELECT count(*) FROM accounts_user").fetchone()[0]
    return f"{bookings:,} bookings, {users:,} users"


def main() -> int:
    only = {s.strip() for s in os.environ.get("BENCH_ONLY", "").split(",") if s.strip()}
    scenarios = [s for s in SCENARIOS if not only or s[0] in only or s[0] == "baseline"]
    common.setup_django()
    common.prepare()
    size = database_size()
    print(
        f"Page load: {common.SECONDS:g}s per page in {ROUNDS} rounds, {CONCURRENCY} concurrent clients, "
        f"gunicorn {common.WORKERS} sync workers; database: {size}"
    )
    results = {
        name: {"latencies": [], "failures": [], "elapsed": 0.0, "bytes": 0, "app_cpu": 0.0, "db_cpu": 0.0}
        for name, _, _ in scenarios
    }
    with common.gunicorn() as (host, port, master):
        from portal.management.commands.seed_scale import BENCH_PASSWORD, bench_email

        sessions = {
            n: common.login(host, port, bench_email(n), BENCH_PASSWORD) for n in {s[1] for s in scenarios}
        }
        for _name, booker, path in scenarios:  # warm each worker's caches and connections
            common.load(host, port, path, sessions[booker], seconds=1, concurrency=CONCURRENCY)
        for _ in range(ROUNDS):
            for name, booker, path in scenarios:
                app_cpu = common.cpu_seconds(common.children(master))
                db_cpu = common.cpu_seconds(common.database_backends())
                run = common.load(
                    host,
                    port,
                    path,
                    sessions[booker],
                    seconds=common.SECONDS / ROUNDS,
                    concurrency=CONCURRENCY,
                )
                result = results[name]
                result["app_cpu"] += common.cpu_used(app_cpu, common.cpu_seconds(common.children(master)))
                result["db_cpu"] += common.cpu_used(db_cpu, common.cpu_seconds(common.database_backends()))
                result["latencies"] += run["latencies"]
                result["failures"] += run["failures"]
                result["elapsed"] += run["elapsed"]
                result["bytes"] = run["bytes"]

    def cpu_ms(result) -> float:
        """Server CPU per request (gunicorn workers + Postgres backends): what throughput would be
        on an idle machine, unlike wall time, which other people's load inflates."""
        return (result["app_cpu"] + result["db_cpu"]) * 1000 / max(len(result["latencies"]), 1)

    base_rps = len(results["baseline"]["latencies"]) / results["baseline"]["elapsed"]
    base_cpu = cpu_ms(results["baseline"])
    rows, figures = [], {}
    for name, _, path in scenarios:
        result = results[name]
        rps = len(result["latencies"]) / result["elapsed"]
        p = {q: common.percentile(result["latencies"], q) * 1000 for q in (50, 95, 99)}
        n = max(len(result["latencies"]), 1)
        figures[name] = {
            "path": path,
            "rps": rps,
            **{f"p{q}_ms": v for q, v in p.items()},
            "ratio": rps / base_rps,
            "app_cpu_ms": result["app_cpu"] * 1000 / n,
            "db_cpu_ms": result["db_cpu"] * 1000 / n,
            "cpu_ratio": base_cpu / cpu_ms(result) if cpu_ms(result) else float("nan"),
            "failures": len(result["failures"]),
            "bytes": result["bytes"],
        }
        rows.append(
            [
                name,
                path,
                f"{rps:.1f}",
                f"{p[50]:.1f}",
                f"{p[95]:.1f}",
                f"{p[99]:.1f}",
                f"{rps / base_rps:.0%}",
                f"{figures[name]['app_cpu_ms']:.1f} + {figures[name]['db_cpu_ms']:.1f}",
                f"{figures[name]['cpu_ratio']:.0%}",
                f"{result['bytes'] / 1024:.1f}",
                len(result["failures"]),
            ]
        )
    print(
        common.table(
            [
                "page",
                "path",
                "req/s",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "of baseline",
                "CPU ms/req app + db",
                "of baseline by CPU",
                "KiB",
                "errors",
            ],
            rows,
        )
    )
    print(
        "req/s and latency are wall-clock on a shared machine; 'of baseline by CPU' is the baseline's server "
        "CPU per request over this page's (gunicorn workers + Postgres backends), which others' load does "
        "not skew."
    )
    print(common.machine())
    if os.environ.get("BENCH_JSON"):
        with open(os.environ["BENCH_JSON"], "w") as out:
            json.dump(
                {"when": time.strftime("%Y-%m-%d %H:%M"), "database": size, "pages": figures}, out, indent=1
            )
    failed = {name: results[name]["failures"][:3] for name, _, _ in scenarios if results[name]["failures"]}
    if failed:
        print(f"Errors (first few each): {failed}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
