from __future__ import annotations

import logging
import re

# Capabilities that travel in URLs: whoever holds one gets what it opens (a booking, a held
# place, a confirmation, a password reset), so none may sit in a log file. In a path: the View
# booking link, the waiting-list confirmation and manage links, a refund's choice of credit, allauth's
# email-confirmation and reset keys.
TOKEN_IN_PATH = re.compile(
    r"(/portal/link/(?!new/)|/portal/waiting/confirm/|/portal/waiting/link/|/portal/refunds/|/accounts/confirm-email/"
    r"|/accounts/password/reset/key/(?!done/))[^/\s\"'?#]+"
)
# In a query string: a waiting-list offer (`?offer=`).
TOKEN_IN_QUERY = re.compile(r"([?&;]offer=)[^&;\s\"'#]+")


def redact(text: str) -> str:
    return TOKEN_IN_QUERY.sub(r"\1[redacted]", TOKEN_IN_PATH.sub(r"\1[redacted]", text))


class RedactTokens(logging.Filter):
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
