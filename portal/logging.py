from __future__ import annotations

import logging
import re

# A View booking link grants a booking to whoever holds it; it must never sit in a log file.
TOKEN_IN_PATH = re.compile(r"(/portal/link/)(?!new/)[^/\s\"'?]+")


def redact(text: str) -> str:
    return TOKEN_IN_PATH.sub(r"\1[redacted]", text)


class RedactBookingLinks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        # A traceback can carry the path too (an exception's message quoting the request), and
        # the formatter would print it as is: format it here, redacted, for every handler.
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
