"""celery beat's schedule is written in settings (CELERY_BEAT_SCHEDULE), not assembled by the apps."""

from __future__ import annotations

from django.conf import settings

from portal.celery import app as celery_app


def test_every_scheduled_job_names_a_task_the_worker_knows():
    celery_app.loader.import_default_modules()  # what a worker imports at start: the apps' tasks

    unknown = {
        name: job["task"]
        for name, job in settings.CELERY_BEAT_SCHEDULE.items()
        if job["task"] not in celery_app.tasks
    }

    assert settings.CELERY_BEAT_SCHEDULE, "the schedule is not empty"
    assert unknown == {}


def test_beat_runs_the_schedule_from_settings():
    assert celery_app.conf.beat_schedule == settings.CELERY_BEAT_SCHEDULE
