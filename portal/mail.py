from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.console import EmailBackend as ConsoleBackend


class FileAndConsoleEmailBackend(BaseEmailBackend):
    """The embedded default: one .eml file per message in var/mail/, and with DEBUG on a copy on the
    console. Never echoed in production: messages carry reset links, login codes and View booking
    links, and the console is the process's log."""

    def __init__(self, file_path=None, **kwargs):
        super().__init__(**kwargs)
        self.file_path = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages):
        self.file_path.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            name = f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{uuid4().hex[:8]}.eml"
            (self.file_path / name).write_bytes(message.message().as_bytes(linesep="\n"))
        if settings.DEBUG:
            ConsoleBackend(stream=sys.stdout, fail_silently=self.fail_silently).send_messages(email_messages)
        return len(email_messages)
