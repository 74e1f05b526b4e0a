"""A real Celery worker process against Redis, reading the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

from portal.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _joining_results_allowed():
    """Eager tasks run by other tests' threads (the race tests) flip Celery's process-wide
    "inside a task, don't join" flag and can leave it set; these tests wait for real results."""
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)


@pytest.fixture
def celery_client():
    """A Celery client of its own with a result backend, to wait for what the worker returns
    (the project's app is fire-and-forget, and other tests have already built its backend)."""
    client = Celery("test-client", broker=settings.REDIS_URL, backend=settings.REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path):
    """Yields the folder the worker writes its email to. Tasks sent by the test go to Redis."""
    db = settings.DATABASES["default"]
    database_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{connection.settings_dict['NAME']}"
    result_backend = settings.REDIS_URL
    mail_dir = tmp_path / "mail"
    pidfile = tmp_path / "worker.pid"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_RESULT_BACKEND": result_backend,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_FILE_PATH": str(mail_dir),
        "PORTAL_TESTING": "false",
        "DATABASE_CONN_MAX_AGE": "60",  # as in production (DEBUG, on here, would make it 0)
    }
    log = open(tmp_path / "worker.log", "w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--pool=solo",
            "--loglevel=info",
            f"--pidfile={pidfile}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        _wait_for_ready(tmp_path / "worker.log", process)
        yield mail_dir
    finally:
        celery_app.conf.task_always_eager = previous
        pid = int(pidfile.read_text()) if pidfile.exists() else process.pid
        os.kill(pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _wait_for_ready(logfile: Path, process, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the Celery worker exited:\n{logfile.read_text()}")
        if "ready." in logfile.read_text():
            return
        time.sleep(0.2)
    pytest.fail(f"the Celery worker did not start in {timeout}s:\n{logfile.read_text()}")
