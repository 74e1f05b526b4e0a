"""Voucher emails: the code goes to the recipient exactly once, from a Celery task."""

from __future__ import annotations

from django.urls import reverse

from portal.emails import send_once, send_templated_email
from portal.receipts import receipt_pdf_url, receipt_url
from vouchers.models import Voucher

KIND = "voucher"  # the receipt kind (vouchers.contracts.KIND)


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


def voucher_send_purchase(*, voucher_id: int) -> bool:
    """Email the buyer of a gift voucher that it is paid for, who it goes to, and links to its
    receipt (page and PDF, which open for the buyer only). Once per voucher (`send_once`), in the
    buyer's language; the code itself goes to the recipient separately (`voucher_send_code`)."""

    def send(voucher: Voucher) -> None:
        organiser = voucher.organiser
        send_templated_email(
            template_prefix="vouchers/email/voucher_purchased",
            to=[voucher.buyer_email or voucher.buyer.email],
            reply_to=[organiser.contact_email] if organiser.contact_email else None,
            context={
                "voucher": voucher,
                "organiser": organiser,
                "user": voucher.buyer,
                "voucher_path": reverse("vouchers:voucher_detail", kwargs={"public_id": voucher.public_id}),
                "receipt_path": receipt_url(KIND, voucher.public_id),
                "receipt_pdf_path": receipt_pdf_url(KIND, voucher.public_id),
            },
        )

    bought = Voucher.objects.filter(
        source=Voucher.Source.BOUGHT, paid_at__isnull=False, buyer__isnull=False
    ).select_related("organiser", "buyer")
    return send_once(rows=bought, pk=voucher_id, sent_field="purchase_email_sent_at", send=send)
