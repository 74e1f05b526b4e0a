from __future__ import annotations

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(task=None, **kwargs) -> None:
    """Treat each task as Django treats a request: keep the database connection for
    CONN_MAX_AGE, drop it when broken. Celery's own Django fixup would instead close it around
    every task (unless CELERY_DB_REUSE_MAX is set, as it is in settings), and a fresh Postgres
    connection per task cost more than the task itself in the email fan-out benchmark."""
    from django.db import close_old_connections

    if task is not None and task.request.is_eager:
        return  # run in-process, inside the caller's request and maybe its transaction
    close_old_connections()
