"""Page load: logged-in bookers against gunicorn with production settings, for a fixed time each.

    python -m bench.page_load            # after: python manage.py seed_scale (any size)
    BENCH_DATABASES=postgres://.../bp_bench_small,postgres://.../bp_bench python -m bench.page_load

Each scenario is a page and a bench booker (seed_scale's bench-5, bench-20, bench-500). The
machine is shared, so nothing is measured alone: scenarios run in BENCH_ROUNDS interleaved rounds
of BENCH_SECONDS/BENCH_ROUNDS each, and each page's throughput is divided by the baseline's *in the
same round* (the baseline view: login, session, layout, no data); the table shows the median of
those per-round ratios. With several databases (BENCH_DATABASES, comma-separated URLs; e.g. a small
one and one seeded with a million bookings) a gunicorn serves each, and every round visits every
database, so their latencies are compared under the same conditions.

Env: BENCH_SECONDS (10), BENCH_ROUNDS (10), BENCH_CONCURRENCY (4), BENCH_WORKERS (CPU count),
BENCH_ONLY (comma-separated scenario names), BENCH_JSON (write the figures to this file).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from contextlib import ExitStack

from bench import common

CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "4"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "10"))
DATABASES = [
    u.strip() for u in os.environ.get("BENCH_DATABASES", common.DATABASE_URL).split(",") if u.strip()
]

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


def database_size(url: str) -> str:
    with common.connect(url) as conn:
        bookings = conn.execute("SELECT count(*) FROM bookings_booking").fetchone()[0]
        users = conn.execute("SELECT count(*) FROM accounts_user").fetchone()[0]
    name = url.rsplit("/", 1)[1]
    return f"{name} ({bookings:,} bookings, {users:,} users)"


def summarise(results: dict, scenarios) -> tuple[list[list], dict]:
    base = results["baseline"]
    base_cpu = (base["app_cpu"] + base["db_cpu"]) / max(len(base["latencies"]), 1)
    rows, figures = [], {}
    for name, _, path in scenarios:
        result = results[name]
        n = max(len(result["latencies"]), 1)
        rps = len(result["latencies"]) / result["elapsed"]
        ratios = [r / b for r, b in zip(result["round_rps"], base["round_rps"], strict=True) if b]
        p = {q: common.percentile(result["latencies"], q) * 1000 for q in (50, 95, 99)}
        cpu = (result["app_cpu"] + result["db_cpu"]) / n
        figures[name] = {
            "path": path,
            "rps": rps,
            **{f"p{q}_ms": v for q, v in p.items()},
            "ratio": statistics.median(ratios) if ratios else float("nan"),
            "ratio_low": min(ratios, default=float("nan")),
            "ratio_high": max(ratios, default=float("nan")),
            "app_cpu_ms": result["app_cpu"] * 1000 / n,
            "db_cpu_ms": result["db_cpu"] * 1000 / n,
            "cpu_ratio": base_cpu / cpu if cpu else float("nan"),
            "requests": len(result["latencies"]),
            "failures": len(result["failures"]),
            "bytes": result["bytes"],
        }
        f = figures[name]
        rows.append(
            [
                name,
                path,
                f"{rps:.1f}",
                f"{p[50]:.1f}",
                f"{p[95]:.1f}",
                f"{p[99]:.1f}",
                f"{f['ratio']:.0%} ({f['ratio_low']:.0%}-{f['ratio_high']:.0%})",
                f"{f['app_cpu_ms']:.1f} + {f['db_cpu_ms']:.1f}",
                f"{f['cpu_ratio']:.0%}",
                f"{result['bytes'] / 1024:.1f}",
                len(result["failures"]),
            ]
        )
    return rows, figures


HEADERS = [
    "page",
    "path",
    "req/s",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "of baseline (rounds' range)",
    "CPU ms/req app + db",
    "of baseline by CPU",
    "KiB",
    "errors",
]


def main() -> int:
    only = {s.strip() for s in os.environ.get("BENCH_ONLY", "").split(",") if s.strip()}
    scenarios = [s for s in SCENARIOS if not only or s[0] in only or s[0] == "baseline"]
    common.setup_django()
    from portal.management.commands.seed_scale import BENCH_PASSWORD, bench_email

    for url in DATABASES:
        common.prepare(url)
    sizes = {url: database_size(url) for url in DATABASES}
    window = common.SECONDS / ROUNDS
    print(
        f"Page load: {common.SECONDS:g}s per page ({ROUNDS} interleaved rounds of {window:g}s), "
        f"{CONCURRENCY} concurrent clients, gunicorn {common.WORKERS} sync workers per database; "
        f"{'; '.join(sizes.values())}"
    )
    results = {
        url: {
            name: {
                "latencies": [],
                "failures": [],
                "elapsed": 0.0,
                "bytes": 0,
                "app_cpu": 0.0,
                "db_cpu": 0.0,
                "round_rps": [],
            }
            for name, _, _ in scenarios
        }
        for url in DATABASES
    }
    with ExitStack() as stack:
        servers = {url: stack.enter_context(common.gunicorn(DATABASE_URL=url)) for url in DATABASES}
        sessions = {
            url: {
                n: common.login(host, port, bench_email(n), BENCH_PASSWORD) for n in {s[1] for s in scenarios}
            }
            for url, (host, port, _) in servers.items()
        }
        for url, (host, port, _) in servers.items():  # warm each worker's caches and connections
            for _name, booker, path in scenarios:
                common.load(host, port, path, sessions[url][booker], seconds=1, concurrency=CONCURRENCY)
        for _ in range(ROUNDS):
            for name, booker, path in scenarios:
                for url, (host, port, master) in servers.items():
                    app_cpu = common.cpu_seconds(common.children(master))
                    db_cpu = common.cpu_seconds(common.database_backends(url))
                    run = common.load(
                        host, port, path, sessions[url][booker], seconds=window, concurrency=CONCURRENCY
                    )
                    result = results[url][name]
                    result["app_cpu"] += common.cpu_used(app_cpu, common.cpu_seconds(common.children(master)))
                    result["db_cpu"] += common.cpu_used(
                        db_cpu, common.cpu_seconds(common.database_backends(url))
                    )
                    result["latencies"] += run["latencies"]
                    result["failures"] += run["failures"]
                    result["elapsed"] += run["elapsed"]
                    result["round_rps"].append(len(run["latencies"]) / run["elapsed"])
                    result["bytes"] = run["bytes"]
    output = {"when": time.strftime("%Y-%m-%d %H:%M"), "databases": {}}
    for url in DATABASES:
        rows, figures = summarise(results[url], scenarios)
        output["databases"][sizes[url]] = figures
        print(f"\n{sizes[url]}")
        print(common.table(HEADERS, rows))
    if len(DATABASES) > 1:
        first, *others = DATABASES
        rows = []
        for name, _, _ in scenarios:
            small = output["databases"][sizes[first]][name]
            row = [name, f"{small['p95_ms']:.1f}"]
            for url in others:
                big = output["databases"][sizes[url]][name]
                row += [f"{big['p95_ms']:.1f}", f"{big['p95_ms'] / small['p95_ms']:.2f}x"]
            rows.append(row)
        headers = ["page", f"p95 ms {first.rsplit('/', 1)[1]}"]
        for url in others:
            headers += [f"p95 ms {url.rsplit('/', 1)[1]}", "ratio"]
        print("\nSame pages, same rounds, by database:")
        print(common.table(headers, rows))
    print(
        "\nreq/s and latency are wall-clock on a shared machine; 'of baseline' is the median over rounds of "
        "the page's req/s over the baseline's in the same round; 'of baseline by CPU' is the baseline's "
        "server CPU per request (gunicorn workers + Postgres backends) over the page's."
    )
    print(common.machine())
    if os.environ.get("BENCH_JSON"):
        with open(os.environ["BENCH_JSON"], "w") as out:
            json.dump(output, out, indent=1)
    failed = {
        (url, name): results[url][name]["failures"][:3]
        for url in DATABASES
        for name, _, _ in scenarios
        if results[url][name]["failures"]
    }
    if failed:
        print(f"Errors (first few each): {failed}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
