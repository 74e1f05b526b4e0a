"""allauth's emails, sent from a Celery task like every other email: the request renders the
message (it knows the booker's context) and stores it; the task sends it once and forgets it."""

from __future__ import annotations

from functools import partial

from django.core.mail import EmailMessage, EmailMultiAlternatives

from accounts.models import AccountEmail
from accounts.tasks import account_email_send as account_email_send_task
from portal.emails import send_once
from portal.transactions import after_commit


def account_email_queue(*, message: EmailMessage) -> AccountEmail:
    """Store a rendered message and send it from a task once the current transaction commits
    (at once when there is none), so the worker finds the row and nothing rolled back is sent."""
    html = next(
        (content for content, mimetype in getattr(message, "alternatives", []) if mimetype == "text/html"),
        "",
    )
    if message.content_subtype == "html":  # allauth renders an html-only message this way
        html, body = message.body, ""
    else:
        body = message.body
    email = AccountEmail.objects.create(
        to=list(message.to),
        from_email=message.from_email,
        subject=message.subject,
        body=body,
        html=html,
        headers=dict(message.extra_headers),
    )
    after_commit(partial(account_email_send_task.delay, email.pk))
    return email


def account_email_send(*, email_id: int) -> bool:
    """Send a queued account email once (`send_once`), then delete it: it holds a reset key or a
    login code. Returns False when it was sent already (or never committed)."""

    def send(email: AccountEmail) -> None:
        message = EmailMultiAlternatives(
            subject=email.subject,
            body=email.body,
            from_email=email.from_email,
            to=email.to,
            headers=email.headers,
        )
        if email.html and email.body:
            message.attach_alternative(email.html, "text/html")
        elif email.html:
            message.body, message.content_subtype = email.html, "html"
        message.send()

    sent = send_once(rows=AccountEmail.objects.all(), pk=email_id, sent_field="sent_at", send=send)
    if sent:
        AccountEmail.objects.filter(pk=email_id, sent_at__isnull=False).delete()
    return sent
