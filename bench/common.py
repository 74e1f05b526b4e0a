"""What the benchmarks share: the production environment, gunicorn started and stopped by its own
pid file, logging in over HTTP, a lean concurrent HTTP load loop, percentiles, tables, the machine.

Everything runs on loopback against its own database and Redis db (BENCH_DATABASE_URL,
BENCH_REDIS_URL), with DEBUG off and the production settings (Postgres, Redis, manifest static
files, persistent DB connections), plain http.
"""

from __future__ import annotations

import asyncio
import http.client
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = ROOT / "var" / "bench"
PYTHON = sys.executable

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bp_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
WORKERS = int(os.environ.get("BENCH_WORKERS", str(os.cpu_count() or 2)))


def production_env(**extra: str) -> dict[str, str]:
    """The environment of a production process, on plain http over loopback."""
    env = {
        **os.environ,
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "DJANGO_DEBUG": "false",
        "PORTAL_TESTING": "false",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdef",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "SECURE_HSTS_SECONDS": "0",
        "SITE_URL": "http://127.0.0.1:8000",
        # Production refuses to start without a gateway and a mail choice: the benchmarks take no
        # card payments, and only email_fanout sends mail (to its own SMTP sink, via EMAIL_HOST).
        "PAYMENT_GATEWAY": "offline",
        "EMAIL_TO_FILES": "true",
        "BENCH_VIEWS": "true",  # the baseline page (/portal/baseline/) the page benchmarks divide by
        "LOG_LEVEL": "WARNING",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(extra)
    return env


def setup_django() -> None:
    """Use Django in this process (seeding, counting) against the bench database."""
    os.environ.update(
        {k: v for k, v in production_env().items() if k in {"DATABASE_URL", "REDIS_URL", "PORTAL_TESTING"}}
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def manage(*args: str, quiet: bool = True, database_url: str = DATABASE_URL) -> None:
    subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=production_env(DATABASE_URL=database_url),
        check=True,
        stdout=subprocess.DEVNULL if quiet else None,
    )


def prepare(database_url: str = DATABASE_URL) -> None:
    """Bring the bench database up to the code's migrations and collect static files (the
    production static storage needs its manifest)."""
    manage("migrate", "--noinput", database_url=database_url)
    manage("collectstatic", "--noinput")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop_by_pidfile(pidfile: Path, process: subprocess.Popen, name: str, timeout: float = 30) -> None:
    """Stop a process by the pid it wrote (never by name), then reap our child."""
    pid = None
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        pid = process.pid
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"{name} did not stop in {timeout}s; killing pid {process.pid}", file=sys.stderr)
        process.kill()
        process.wait()


@contextmanager
def gunicorn(workers: int = WORKERS, **env: str):
    """Serve the portal with production settings; yields (host, port, master pid). Stopped by its
    pid file."""
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    port = free_port()
    pidfile = RUN_DIR / f"gunicorn-{port}.pid"
    log_path = RUN_DIR / f"gunicorn-{port}.log"
    log = open(log_path, "w")
    process = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "portal.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--no-control-socket",
            "--pid",
            str(pidfile),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=production_env(CSRF_TRUSTED_ORIGINS=f"http://127.0.0.1:{port}", **env),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{log_path.read_text()}")
            try:
                status, _, _ = request("127.0.0.1", port, "GET", "/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer /healthz in 60s:\n{log_path.read_text()}")
            time.sleep(0.3)
        yield "127.0.0.1", port, int(pidfile.read_text().strip())
    finally:
        _stop_by_pidfile(pidfile, process, "gunicorn")
        log.close()
        pidfile.unlink(missing_ok=True)


# HTTP -------------------------------------------------------------------------------------------


def request(host, port, method, path, *, body: dict | None = None, cookies: dict | None = None, timeout=30):
    """One plain HTTP request; returns (status, headers as a list of pairs, body bytes)."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    headers = {}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    data = None
    if body is not None:
        data = urllib.parse.urlencode(body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Origin"] = f"http://{host}:{port}"
    try:
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


def set_cookies(headers) -> dict[str, str]:
    cookies = {}
    for name, value in headers:
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            cookies[key.strip()] = rest.split(";", 1)[0]
    return cookies


CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf(host, port, path) -> tuple[dict[str, str], str]:
    """GET a form page; returns its cookies (csrftoken) and the form's CSRF token."""
    status, headers, body = request(host, port, "GET", path)
    match = CSRF_INPUT.search(body)
    if status != 200 or not match:
        raise RuntimeError(f"GET {path}: {status}, no CSRF token in the form")
    return set_cookies(headers), match.group(1).decode()


def login(host, port, email: str, password: str) -> dict[str, str]:
    """Log in through the real login form (allauth); returns the session cookies."""
    cookies, token = csrf(host, port, "/accounts/login/")
    status, headers, body = request(
        host,
        port,
        "POST",
        "/accounts/login/",
        body={"login": email, "password": password, "csrfmiddlewaretoken": token},
        cookies=cookies,
    )
    cookies.update(set_cookies(headers))
    if status != 302 or "sessionid" not in cookies:
        raise RuntimeError(f"login as {email} failed: {status} {body[:300]!r}")
    return cookies


async def _client(host, port, raw: bytes, deadline: float, latencies: list, failures: list, sizes: list):
    """One client: a request at a time, reusing its connection when the server keeps it open."""
    reader = writer = None
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            lower = head.lower()
            match = re.search(rb"\r\ncontent-length: *(\d+)", lower)
            if match:
                body = await reader.readexactly(int(match.group(1)))
            else:
                body = await reader.read()
            keep = match is not None and b"\r\nconnection: close" not in lower
        except (OSError, asyncio.IncompleteReadError) as error:
            failures.append(repr(error))
            writer = None
            continue
        latencies.append(time.perf_counter() - started)
        sizes.append(len(body))
        if status != 200:
            failures.append(f"HTTP {status}")
        if not keep:
            writer.close()
            writer = None
    if writer is not None:
        writer.close()


def load(host, port, path, cookies, *, seconds: float, concurrency: int) -> dict:
    """Drive GET path with `concurrency` clients for `seconds`; returns latencies and failures."""
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    raw = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookie}\r\n"
        "Accept: text/html\r\nConnection: keep-alive\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    failures: list[str] = []
    sizes: list[int] = []

    async def main():
        deadline = time.perf_counter() + seconds
        await asyncio.gather(
            *(_client(host, port, raw, deadline, latencies, failures, sizes) for _ in range(concurrency))
        )

    started = time.perf_counter()
    asyncio.run(main())
    return {
        "elapsed": time.perf_counter() - started,
        "latencies": latencies,
        "failures": failures,
        "bytes": sizes[-1] if sizes else 0,
    }


# CPU time, which other people's load on a shared machine does not inflate the way it does wall time.

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids) -> dict[int, float]:
    """User + system CPU seconds used so far by each of these processes (gone ones are left out)."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
    return used


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two snapshots; a process that started in between counts whole
    (a database connection closed by CONN_MAX_AGE and opened again has a new backend)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def connect(database_url: str = DATABASE_URL, **kwargs):
    import psycopg

    return psycopg.connect(database_url.replace("postgres://", "postgresql://", 1), **kwargs)


def database_backends(database_url: str = DATABASE_URL) -> list[int]:
    """Postgres server processes serving the bench database (they run on this machine)."""
    with connect(database_url) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [row[0] for row in rows]


# Figures ----------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def table(headers: list[str], rows: list[list]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append(
            "| "
            + " | ".join(
                c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
            + " |"
        )
        if n == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def postgres_version() -> str:
    import psycopg

    with psycopg.connect(DATABASE_URL.replace("postgres://", "postgresql://", 1)) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def machine() -> str:
    import django

    load1, load5, _ = os.getloadavg()
    return (
        f"Machine: {os.cpu_count()} CPUs ({cpu_model()}), load average {load1:.2f}/{load5:.2f} (1/5 min); "
        f"Python {platform.python_version()}, Django {django.get_version()}, "
        f"Postgres {postgres_version()}, {platform.system()} {platform.release()}"
    )
