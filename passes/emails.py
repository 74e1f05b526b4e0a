"""Pass emails: the buyer hears once that their pass is paid for, with its receipt (a Celery task)."""

from __future__ import annotations

from django.urls import reverse

from passes.models import Pass
from portal.emails import send_once, send_templated_email
from portal.receipts import receipt_pdf_url, receipt_url

KIND = "pass"  # the receipt kind (passes.contracts.KIND)


def pass_send_purchase(*, pass_id: int) -> bool:
    """Email the buyer that their pass is paid for: what it gives, until when, and links to its
    receipt (page and PDF, which open for the pass's owner only). Once per pass (`send_once`);
    in the buyer's language (`portal.emails.email_language`: their account's, else the organiser's)."""

    def send(pass_: Pass) -> None:
        organiser = pass_.organiser
        send_templated_email(
            template_prefix="passes/email/pass_purchased",
            to=[pass_.buyer_email],
            reply_to=[organiser.contact_email] if organiser.contact_email else None,
            context={
                "pass": pass_,
                "pass_type": pass_.pass_type,
                "organiser": organiser,
                "user": pass_.user,
                "pass_path": reverse("passes:pass_detail", kwargs={"code": pass_.code}),
                "receipt_path": receipt_url(KIND, pass_.code),
                "receipt_pdf_path": receipt_pdf_url(KIND, pass_.code),
            },
        )

    paid = Pass.objects.filter(
        status=Pass.Status.ACTIVE, paid_at__isnull=False, user__isnull=False
    ).select_related("pass_type", "organiser", "user")
    return send_once(rows=paid, pk=pass_id, sent_field="purchase_email_sent_at", send=send)
