"""Templated email: every message has an HTML and a plain-text part, rendered from
<prefix>_subject.txt, <prefix>.txt and <prefix>.html."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from email.mime.base import MIMEBase
from smtplib import SMTPException, SMTPServerDisconnected
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Model, QuerySet
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.utils import timezone, translation

# Deleted accounts leave placeholder addresses (RFC 2606's reserved .invalid), never mailed.
DELETED_DOMAIN = "@invalid"


# Files an app above adds to another app's emails (a calendar file on a booking confirmation),
# registered by key from its AppConfig.ready(): `make(template_prefix, context)` returns
# (filename, content, mimetype) triples to attach, or none. It must not query the database: it
# sees what the email's own read loaded (`context`), so a fan-out of emails stays one read each.
# An attachment is (filename, content, mimetype), or a MIME part made ready (its own parameters).
Attachment = tuple[str, bytes | str, str] | MIMEBase
_ATTACHMENTS: dict[str, tuple[frozenset[str], Callable[[str, dict], list[Attachment]]]] = {}


def attachments_register(key: str, *, template_prefixes: set[str], make: Callable[[str, dict], list]) -> None:
    _ATTACHMENTS[key] = (frozenset(template_prefixes), make)


def _registered_attachments(template_prefix: str, context: dict) -> list[Attachment]:
    found = []
    for key in sorted(_ATTACHMENTS):
        prefixes, make = _ATTACHMENTS[key]
        if template_prefix in prefixes:
            found.extend(make(template_prefix, context) or [])
    return found


def send_templated_email(
    *,
    template_prefix: str,
    to: list[str],
    context: dict,
    reply_to: list[str] | None = None,
    headers: dict[str, str] | None = None,
    attachments: list[Attachment] | None = None,
    language: str | None = None,
) -> None:
    """Render and send, in `language` or else the recipient's (`email_language`): a Celery worker
    has no request, so the language is set here, for the subject and both parts."""
    to = [address for address in to if not address.lower().endswith(DELETED_DOMAIN)]
    if not to:
        return  # every recipient deleted their account: nobody to tell
    context = {"site_url": settings.SITE_URL, **context}
    language = language or email_language(context)
    with translation.override(language):
        # One line, whatever a title holds: a subject can never start a header of its own.
        subject = " ".join(render_text(f"{template_prefix}_subject.txt", context).split())
        message = Email(
            subject=subject,
            body=links_in_language(render_text(f"{template_prefix}.txt", context), language),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=to,
            reply_to=reply_to,
            headers=headers,
        )
        html = render_to_string(f"{template_prefix}.html", context)
        message.attach_alternative(links_in_language(html, language, html=True), "text/html")
        # In the email's language too: a calendar file's description is words for the booker.
        for attachment in [*(attachments or []), *_registered_attachments(template_prefix, context)]:
            if isinstance(attachment, MIMEBase):
                message.attach(attachment)
            else:
                message.attach(*attachment)
    _send(message)


class Email(EmailMultiAlternatives):
    """Django's email, its multipart boundaries chosen when the message is built. Left unset,
    Python's email generator makes one for each multipart and compiles a regular expression to
    check that no line of the text is that boundary: a new pattern each time, so `re`'s cache
    never holds it, a fifth of writing out a reminder (bench/RESULTS.md, 2026-11-30). 128
    random bits cannot turn up in an email's lines by chance."""

    def message(self):
        message = super().message()
        for part in message.walk():
            if part.is_multipart() and part.get_boundary() is None:
                part.set_boundary(f"=_{secrets.token_hex(16)}")
        return message


def links_in_language(body: str, language: str, *, html: bool = False) -> str:
    """Every link to the portal in an email opens it in the email's language (`?lang=`, which
    the language middleware keeps for the pages after it), so a guest reads on in the language
    they were written to. English emails keep their links as they are."""
    if language == settings.LANGUAGE_CODE:
        return body
    separator = "&amp;" if html else "&"

    def with_language(match: re.Match) -> str:
        url, fragment = match.group("url"), match.group("fragment") or ""
        return f"{url}{separator if '?' in url else '?'}lang={language}{fragment}"

    site = re.escape(settings.SITE_URL.rstrip("/"))
    # A sentence's full stop or a bracket after a link in the text part is not the link's.
    url = rf"(?P<url>{site}(?:/(?:[^\s\"'<>#]*[^\s\"'<>#.,;:!?)])?)?)"
    return re.sub(rf"{url}(?P<fragment>#[^\s\"'<>.,;:!?)]*)?", with_language, body)


# The rows of an email's context that may name the recipient's account (`user`), first found wins.
RECIPIENT_ROWS = ("booking", "cancelled", "entry", "membership")


def email_language(context: dict, user=None) -> str:
    """The language an email speaks: the recipient's saved choice (their account's language),
    else the organiser's default language (guests), else the portal's own (en-gb)."""
    from portal.middleware import language_supported

    user = user or context.get("user")
    if user is None:
        for key in RECIPIENT_ROWS:
            row = context.get(key)
            if row is not None and getattr(row, "user_id", None):
                user = row.user
                break
    organiser = context.get("organiser")
    for code in (getattr(user, "language", ""), getattr(organiser, "default_language", "")):
        if supported := language_supported(code):
            return supported
    return settings.LANGUAGE_CODE


def render_text(template_name: str, context: dict) -> str:
    """A plain-text part or subject: text, so "Yin & Restore" stays as typed. Only the HTML part
    is HTML and escapes what people typed."""
    return get_template(template_name).template.render(Context(context, autoescape=False))


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

# An email task's retries (`@shared_task(**EMAIL_TASK)`): soon, then spread out to half an hour,
# for about two hours in all, long enough for a mail server's restart.
EMAIL_TASK = {
    "bind": True,
    "autoretry_for": EMAIL_RETRY_ON,
    "retry_backoff": 30,
    "retry_backoff_max": 1800,
    "retry_jitter": True,
    "max_retries": 8,
}


def send_once(
    *,
    pk: int,
    sent_field: str,
    send: Callable[[Any], None],
    rows: QuerySet | None = None,
    model: type[Model] | None = None,
    load: Callable[[int], Any] | None = None,
) -> bool:
    """Send the email for one row exactly once, however often the task runs.

    `rows` is the queryset of rows that still qualify (e.g. confirmed bookings); or, on a hot path,
    `load(pk)` returns what `send` needs if row `pk` of `model` still qualifies and is unsent, else
    None. `send(row)` sends; `sent_field` is stamped afterwards, in the same transaction.

    The transaction holds an advisory lock named after the row (no row lock, so readers and
    writers of the row never wait on the mail server) from before the check to after the stamp:
    a second worker either finds the lock held (SendInProgress, and its task retries) or, once
    the first commits, the row stamped. A killed worker's transaction is rolled back, taking its
    lock with it and stamping nothing, so its redelivered task sends. Being a transaction's, the
    lock works behind PgBouncer in transaction mode. Returns False when there is nothing to send
    (sent already, or the row no longer qualifies); raises SendInProgress while another worker
    holds the lock, and whatever `send` raises (nothing is stamped, so a retry sends)."""
    from portal.locking import held_for_this_transaction

    if load is None:
        model = rows.model

        def load(pk: int):
            return rows.filter(pk=pk, **{f"{sent_field}__isnull": True}).first()

    with transaction.atomic():
        if not held_for_this_transaction(f"{model._meta.label_lower}.{sent_field}.{pk}"):
            raise SendInProgress(f"{model._meta.label} {pk} {sent_field}")
        row = load(pk)
        if row is None:
            return False
        send(row)
        _stamp(model, pk, sent_field)
    return True


def _stamp(model: type[Model], pk: int, sent_field: str) -> None:
    """Set `sent_field` to now on row `pk`: one UPDATE, written out because compiling the ORM's
    took longer than running it (the fan-out benchmark, issue 12)."""
    field = model._meta.get_field(sent_field)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(model._meta.db_table)} SET {quote(field.column)} = %s"
            f" WHERE {quote(model._meta.pk.column)} = %s",
            [field.get_db_prep_value(timezone.now(), connection), pk],
        )
