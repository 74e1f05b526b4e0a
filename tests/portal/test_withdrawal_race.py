"""Ten requests to withdraw from the same pass at once, on real Postgres transactions: one
withdrawal, one refund, one email."""

from __future__ import annotations

import pytest
from django.core import mail

from passes.models import Pass
from portal import withdrawals
from portal.models import Withdrawal
from tests.portal.test_withdrawals import bought_pass
from tests.races import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_ten_withdrawals_of_one_pass_at_once_make_one(booker):
    pass_ = bought_pass(booker, uses_left=4)

    made = at_once(
        10, lambda n: withdrawals.withdrawal_make(user=booker, kind="pass", code=str(pass_.code)).pk
    )

    assert len(set(made)) == 1
    withdrawal = Withdrawal.objects.get()
    assert withdrawal.refund_amount == 4000
    assert withdrawal.refund_status == Withdrawal.RefundStatus.SUCCEEDED
    assert Pass.objects.get(pk=pass_.pk).status == Pass.Status.VOID
    assert len(mail.outbox) == 1


@pytest.mark.race(max_repeat=1)  # one thread: nothing to repeat
def test_withdrawing_locks_the_products_row(booker):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    pass_ = bought_pass(booker)
    with CaptureQueriesContext(connection) as queries:
        withdrawals.withdrawal_make(user=booker, kind="pass", code=str(pass_.code))
    locking = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"]]
    assert locking and '"passes_pass"' in locking[0]
