from __future__ import annotations

import logging
import re

# A View booking link grants a booking to whoever holds it; it must never sit in a log file.
TOKEN_IN_PATH = re.compile(r"(/portal/link/)(?!new/)[^/\s\"?]+")


class RedactBookingLinks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = TOKEN_IN_PATH.sub(r"\1[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
