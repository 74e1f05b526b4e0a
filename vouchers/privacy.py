"""What vouchers keeps about a booker, and how account deletion erases it (accounts.privacy,
registered in VouchersConfig.ready)."""

from __future__ import annotations

from django.db.models import Q

from accounts.privacy import DELETED_NAME, Erasure
from vouchers.models import Voucher


def vouchers_anonymise(erasure: Erasure) -> None:
    """Vouchers they bought stay spendable by whoever they were for (the recipient's details are
    the recipient's); the buyer's address and the message they wrote go. Vouchers given to them
    lose the recipient's details."""
    bought = Voucher.objects.filter(Q(buyer=erasure.user) | erasure.by_email("buyer_email"))
    bought_ids = list(bought.values_list("pk", flat=True))
    Voucher.objects.filter(pk__in=bought_ids).update(buyer_email=erasure.placeholder_email, message="")
    received_ids = list(
        Voucher.objects.filter(erasure.by_email("recipient_email")).values_list("pk", flat=True)
    )
    Voucher.objects.filter(pk__in=received_ids).update(
        recipient_name=DELETED_NAME, recipient_email=erasure.placeholder_email
    )
    erasure.anonymised(Voucher, bought_ids + received_ids)
