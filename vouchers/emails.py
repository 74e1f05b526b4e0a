"""Voucher emails: the code goes to the recipient exactly once, from a Celery task."""

from __future__ import annotations

from django.urls import reverse

from portal.emails import send_once, send_templated_email
from vouchers.models import Voucher


def voucher_send_code(*, voucher_id: int) -> bool:
    """Email an active voucher's code to its recipient (or its buyer when no recipient email was
    given). Once per voucher (`send_once`): returns False when it was sent already."""

    def send(voucher: Voucher) -> None:
        organiser = voucher.organiser
        send_templated_email(
            template_prefix="vouchers/email/voucher_code",
            to=[voucher.recipient_email or voucher.buyer_email],
            reply_to=[organiser.contact_email] if organiser.contact_email else None,
            context={
                "voucher": voucher,
                "organiser": organiser,
                "organiser_path": reverse("organiser_page", args=[organiser.slug]),
            },
        )

    addressed = (
        Voucher.objects.filter(status=Voucher.Status.ACTIVE)
        .exclude(recipient_email="", buyer_email="")
        .select_related("organiser")
    )
    return send_once(rows=addressed, pk=voucher_id, sent_field="email_sent_at", send=send)
