"""docker-compose.yml runs migrations once, as a release step, before anything serves or works."""

from __future__ import annotations

import re

from tests.portal.test_settings import ROOT


def services() -> dict[str, str]:
    """Each service's block of docker-compose.yml, with the shared app block (x-app) merged in as
    text: enough to read commands and dependencies without a YAML parser."""
    text = (ROOT / "docker-compose.yml").read_text()
    shared = re.search(r"^x-app: &app\n((?:  .*\n|\n)*)", text, re.MULTILINE).group(1)
    body = text.split("\nservices:\n", 1)[1].split("\nvolumes:", 1)[0]
    blocks = re.findall(r"^  ([a-z]+):\n((?:    .*\n|\n)*)", body + "\n", re.MULTILINE)
    return {name: block.replace("<<: *app", shared) for name, block in blocks}


def test_one_migrate_service_runs_the_migrations():
    commands = {name: re.search(r"command: (.*)", block) for name, block in services().items()}
    migrating = [name for name, command in commands.items() if command and "migrate" in command.group(1)]

    assert migrating == ["migrate"]
    assert "manage.py migrate --noinput" in commands["migrate"].group(1)


def test_web_worker_and_beat_start_only_after_the_migrations_succeeded():
    for name in ["web", "worker", "beat"]:
        block = services()[name]
        assert re.search(r"migrate: \{condition: service_completed_successfully\}", block), name
