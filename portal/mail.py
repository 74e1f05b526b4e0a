from __future__ import annotations

import sys

from django.core.mail.backends.console import EmailBackend as ConsoleBackend
from django.core.mail.backends.filebased import EmailBackend as FileBackend


class FileAndConsoleEmailBackend(FileBackend):
    """The embedded default: one file per message in var/mail/, and a copy on the console."""

    def send_messages(self, email_messages):
        sent = super().send_messages(email_messages)
        ConsoleBackend(stream=sys.stdout).send_messages(email_messages)
        return sent

    def _get_filename(self):
        # One file per message (the base class appends a whole batch to one file).
        self._fname = None
        return super()._get_filename()

    def write_message(self, message):
        self.stream.close()
        self.stream = open(self._get_filename(), "ab")
        super().write_message(message)
