"""Voucher emails: the code goes to the recipient once, from a Celery task."""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from portal.emails import send_templated_email
from vouchers.models import Voucher


def voucher_send_code(*, voucher_id: int) -> bool:
    """Email an active voucher's code to its recipient (or its buyer when no recipient email was
    given). At most once per voucher: returns False when it was sent already."""
    with transaction.atomic():
        # The row lock makes a second worker wait and then see the email was sent.
        voucher = (
            Voucher.objects.select_related("organiser").select_for_update().filter(pk=voucher_id).first()
        )
        if voucher is None or voucher.status != Voucher.Status.ACTIVE or voucher.email_sent_at is not None:
            return False
        to = voucher.recipient_email or voucher.buyer_email
        if not to:
            return False
        organiser = voucher.organiser
        send_templated_email(
            template_prefix="vouchers/email/voucher_code",
            to=[to],
            reply_to=[organiser.contact_email] if organiser.contact_email else None,
            context={
                "voucher": voucher,
                "organiser": organiser,
                "organiser_path": reverse("organiser_page", args=[organiser.slug]),
                "vouchers_path": reverse("vouchers:voucher_list"),
            },
        )
        voucher.email_sent_at = timezone.now()
        voucher.save(update_fields=["email_sent_at", "updated_at"])
    return True
