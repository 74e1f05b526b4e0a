"""Templated email: every message has an HTML and a plain-text part, rendered from
<prefix>_subject.txt, <prefix>.txt and <prefix>.html."""

from __future__ import annotations

from smtplib import SMTPException, SMTPServerDisconnected

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import InterfaceError, OperationalError
from django.template.loader import render_to_string

# Deleted accounts leave placeholder addresses (RFC 2606's reserved .invalid), never mailed.
DELETED_DOMAIN = "@invalid"


def send_templated_email(
    *, template_prefix: str, to: list[str], context: dict, reply_to: list[str] | None = None
) -> None:
    to = [address for address in to if not address.lower().endswith(DELETED_DOMAIN)]
    if not to:
        return  # every recipient deleted their account: nobody to tell
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"{template_prefix}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template_prefix}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        reply_to=reply_to,
    )
    message.attach_alternative(render_to_string(f"{template_prefix}.html", context), "text/html")
    _send(message)


# One SMTP connection per process, kept open between messages: a worker sending a burst of
# confirmations would otherwise spend most of each send on connecting and the TLS handshake.
_smtp = {}


def _send(message: EmailMultiAlternatives) -> None:
    if not settings.EMAIL_BACKEND.endswith("smtp.EmailBackend"):
        message.send()  # file, console and test backends: nothing worth keeping open
        return
    try:
        _send_on_kept_connection(message)
    except SMTPServerDisconnected:
        _send_on_kept_connection(message)  # it hung up while we were idle: once more, afresh


def _send_on_kept_connection(message: EmailMultiAlternatives) -> None:
    connection = _smtp.get(settings.EMAIL_BACKEND)
    if connection is None:
        connection = _smtp[settings.EMAIL_BACKEND] = get_connection()
    try:
        connection.open()  # a no-op while it is open
        connection.send_messages([message])
    except Exception:
        # A dropped or broken connection: forget it, so the next attempt connects afresh.
        _smtp.pop(settings.EMAIL_BACKEND, None)
        try:
            connection.close()
        except Exception:  # noqa: BLE001, S110 - it is already broken; closing is a courtesy
            pass
        raise


class SendInProgress(Exception):
    """Another worker is sending this very email right now; retry later (tasks autoretry it)."""


# What an email task retries on: the mail server failed, another worker is sending it now, or
# the database connection broke (a restart, a failover): the worker closes a broken connection
# after the task (portal/celery.py) and the retry opens a fresh one. Without it that email was lost.
EMAIL_RETRY_ON = (SMTPException, OSError, SendInProgress, InterfaceError, OperationalError)


def send_once(*, rows, pk: int, sent_field: str, send) -> bool:
    """Send the email for one row exactly once, however often the task runs.

    `rows` is the queryset of rows that still qualify (e.g. confirmed bookings); `send(row)`
    sends; `sent_field` is stamped afterwards. A lock held by this worker's connection (not a
    row lock, not a transaction) keeps two workers from sending at once, and dies with a killed
    worker, whose redelivered task then finds the email unsent and sends it. Returns False when
    there is nothing to send (sent already, or the row no longer qualifies); raises
    SendInProgress while another worker holds the lock, and whatever `send` raises (nothing is
    stamped, so a retry sends)."""
    from django.utils import timezone

    from portal.locking import held_by_this_connection

    with held_by_this_connection(f"{rows.model._meta.label_lower}.{sent_field}.{pk}") as ours:
        if not ours:
            raise SendInProgress(f"{rows.model._meta.label} {pk} {sent_field}")
        row = rows.filter(pk=pk, **{f"{sent_field}__isnull": True}).first()
        if row is None:
            return False
        send(row)
        rows.model.objects.filter(pk=pk).update(**{sent_field: timezone.now()})
    return True
