"""Withdrawing from a contract bought online (portal.withdrawals; EU Directive 2023/2673, Art. 11a
CRD): passes, gift vouchers and memberships, within 14 days of purchase, with a refund less what
was already used, an acknowledgement email, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from memberships.models import Membership
from passes.models import Pass
from portal import withdrawals
from portal.models import Withdrawal
from portal.withdrawals import WithdrawalError
from tests.factories import OrganiserFactory
from tests.memberships.factories import MembershipFactory, MembershipInvoiceFactory
from tests.passes.factories import PassFactory
from tests.vouchers.factories import VoucherFactory
from vouchers.models import Voucher

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_english():
    # What the services write (a contract's description, an error) is in the active language;
    # another test's request may have left one active.
    with translation.override("en-gb"):
        yield


def bought_pass(user, **extra):
    defaults = {
        "user": user,
        "buyer_email": user.email,
        "price": 10000,
        "pass_type__uses_included": 10,
        "uses_included": 10,
        "uses_left": 10,
        "idempotency_key": f"buy-{user.pk}",
        "payment_reference": "offline_pay_123",
        "paid_at": timezone.now() - timedelta(days=2),
    }
    return PassFactory(**{**defaults, **extra})


def bought_voucher(user, **extra):
    defaults = {
        "source": Voucher.Source.BOUGHT,
        "buyer": user,
        "buyer_email": user.email,
        "value": 5000,
        "idempotency_key": f"buy-{user.pk}",
        "payment_reference": "offline_pay_456",
        "paid_at": timezone.now() - timedelta(days=1),
    }
    return VoucherFactory(**{**defaults, **extra})


def joined_membership(user, *, days_ago: int = 3, period_days: int = 30, **extra):
    start = timezone.now() - timedelta(days=days_ago, hours=1)
    membership = MembershipFactory(
        user=user,
        started_at=start,
        current_period_start=start,
        current_period_end=start + timedelta(days=period_days),
        plan__price=3000,
        **extra,
    )
    MembershipInvoiceFactory(
        membership=membership, status="paid", amount_due=3000, amount_paid=3000, issued_at=start
    )
    return membership


def url(kind: str, code) -> str:
    return reverse("withdrawal_confirm", kwargs={"kind": kind, "code": str(code)})


# The rule -------------------------------------------------------------------------------------


def test_a_pass_withdrawn_after_three_of_ten_uses_refunds_seven_tenths(
    booker, django_capture_on_commit_callbacks
):
    pass_ = bought_pass(booker, uses_left=7)

    with django_capture_on_commit_callbacks(execute=True):
        withdrawal = withdrawals.withdrawal_make(user=booker, kind="pass", code=str(pass_.code))

    withdrawal.refresh_from_db()
    assert (withdrawal.amount_paid, withdrawal.deduction, withdrawal.refund_amount) == (10000, 3000, 7000)
    assert withdrawal.deduction_reason == "3 of 10 uses taken"
    assert withdrawal.refund_status == Withdrawal.RefundStatus.SUCCEEDED  # offline gateway, at once
    assert withdrawal.refund_reference.startswith("offline_re_")
    pass_.refresh_from_db()
    assert (pass_.status, pass_.uses_left) == (Pass.Status.VOID, 0)


def test_a_voucher_withdrawn_after_spending_part_refunds_what_is_left(
    booker, django_capture_on_commit_callbacks
):
    voucher = bought_voucher(booker, balance=3500)

    with django_capture_on_commit_callbacks(execute=True):
        withdrawal = withdrawals.withdrawal_make(user=booker, kind="voucher", code=str(voucher.public_id))

    assert (withdrawal.deduction, withdrawal.refund_amount) == (1500, 3500)
    voucher.refresh_from_db()
    assert (voucher.status, voucher.balance) == (Voucher.Status.VOID, 0)


def test_a_membership_withdrawn_on_its_fourth_day_keeps_four_days_of_thirty(
    booker, django_capture_on_commit_callbacks
):
    membership = joined_membership(booker, days_ago=3, period_days=30)

    with django_capture_on_commit_callbacks(execute=True):
        withdrawal = withdrawals.withdrawal_make(user=booker, kind="membership", code=str(membership.code))

    assert (withdrawal.deduction, withdrawal.refund_amount) == (400, 2600)  # 3000 x 4/30, a day begun counts
    assert withdrawal.deduction_reason == "4 of 30 days"
    membership.refresh_from_db()
    assert membership.status == Membership.Status.CANCELED
    assert membership.ended_at is not None
    withdrawal.refresh_from_db()
    assert withdrawal.refund_status == Withdrawal.RefundStatus.SUCCEEDED


def test_an_untouched_purchase_is_refunded_in_full(booker):
    pass_ = bought_pass(booker)
    withdrawal = withdrawals.withdrawal_make(user=booker, kind="pass", code=str(pass_.code))
    assert (withdrawal.deduction, withdrawal.refund_amount, withdrawal.deduction_reason) == (0, 10000, "")


# When it is not available -------------------------------------------------------------------------


def test_the_fifteenth_day_is_too_late(booker):
    pass_ = bought_pass(booker, paid_at=timezone.now() - timedelta(days=14, minutes=1))

    with pytest.raises(WithdrawalError, match="withdrawal period for this purchase ended"):
        withdrawals.withdrawal_make(user=booker, kind="pass", code=str(pass_.code))

    assert not Withdrawal.objects.exists()
    pass_.refresh_from_db()
    assert pass_.status == Pass.Status.ACTIVE


def test_the_last_minute_of_the_fourteenth_day_is_in_time(booker):
    pass_ = bought_pass(booker, paid_at=timezone.now() - timedelta(days=14) + timedelta(minutes=1))
    assert withdrawals.withdrawal_make(user=booker, kind="pass", code=str(pass_.code)).refund_amount == 10000


def test_an_organiser_selling_only_to_businesses_offers_no_withdrawal(booker):
    pass_ = bought_pass(booker, organiser=OrganiserFactory(sells_only_to_businesses=True))

    with pytest.raises(WithdrawalError, match="sells only to businesses"):
        withdrawals.withdrawal_make(user=booker, kind="pass", code=str(pass_.code))
    assert not Withdrawal.objects.exists()


def test_a_pass_the_organiser_issued_in_the_admin_was_not_bought_online(booker):
    pass_ = bought_pass(booker, idempotency_key=None, payment_reference="")

    with pytest.raises(WithdrawalError, match="not bought online"):
        withdrawals.withdrawal_make(user=booker, kind="pass", code=str(pass_.code))


def test_a_cancelled_membership_that_has_ended_has_nothing_to_withdraw_from(booker):
    membership = joined_membership(booker, status=Membership.Status.CANCELED)

    with pytest.raises(WithdrawalError, match="already ended"):
        withdrawals.withdrawal_make(user=booker, kind="membership", code=str(membership.code))


def test_another_bookers_contract_is_not_found(booker, other_booker):
    for kind, code in [
        ("pass", bought_pass(other_booker).code),
        ("voucher", bought_voucher(other_booker).public_id),
        ("membership", joined_membership(other_booker).code),
    ]:
        with pytest.raises(WithdrawalError, match="couldn't find"):
            withdrawals.withdrawal_make(user=booker, kind=kind, code=str(code))
    assert not Withdrawal.objects.exists()


def test_a_gift_vouchers_recipient_cannot_withdraw_from_the_buyers_contract(booker, other_booker):
    voucher = bought_voucher(other_booker, recipient_email=booker.email)
    with pytest.raises(WithdrawalError):
        withdrawals.withdrawal_make(user=booker, kind="voucher", code=str(voucher.public_id))


# Once, and the acknowledgement -------------------------------------------------------------------


def test_withdrawing_twice_withdraws_once_and_emails_once(booker, django_capture_on_commit_callbacks):
    pass_ = bought_pass(booker)

    with django_capture_on_commit_callbacks(execute=True):
        first = withdrawals.withdrawal_make(user=booker, kind="pass", code=str(pass_.code))
    with django_capture_on_commit_callbacks(execute=True):
        second = withdrawals.withdrawal_make(user=booker, kind="pass", code=str(pass_.code))

    assert first.pk == second.pk
    assert Withdrawal.objects.count() == 1
    assert len(mail.outbox) == 1


@time_machine.travel("2026-11-30 14:05:09 +00:00", tick=False)
def test_the_acknowledgement_states_the_contract_and_the_date_and_time_of_withdrawal(
    booker, django_capture_on_commit_callbacks
):
    pass_ = bought_pass(booker, uses_left=7, pass_type__name="Ten classes")

    with django_capture_on_commit_callbacks(execute=True):
        withdrawals.withdrawal_make(user=booker, kind="pass", code=str(pass_.code))

    (message,) = mail.outbox
    assert message.to == [booker.email]
    assert "withdrawal" in message.subject
    assert "Ten classes pass (10 tickets)" in message.body
    assert "30 November 2026 at 14:05:09 GMT" in message.body  # London time, to the second
    assert "£30.00" in message.body and "3 of 10 uses taken" in message.body
    assert "Refund: £70.00" in message.body
    html = message.alternatives[0][0]
    assert "Ten classes pass" in html and "14:05:09" in html


def test_a_refund_the_gateway_refuses_is_retried_and_the_email_still_goes(booker, monkeypatch):
    from portal.exceptions import PaymentError
    from portal.payments import OfflineGateway

    pass_ = bought_pass(booker)
    withdrawal = withdrawals.withdrawal_make(user=booker, kind="pass", code=str(pass_.code))

    def refuse(self, **kwargs):
        raise PaymentError("Card network down.")

    monkeypatch.setattr(OfflineGateway, "refund", refuse)
    with pytest.raises(PaymentError):
        withdrawals.withdrawal_settle(withdrawal=withdrawal)
    withdrawal.refresh_from_db()
    assert withdrawal.refund_status == Withdrawal.RefundStatus.PENDING
    assert withdrawal.refund_error == "Card network down."
    assert len(mail.outbox) == 1

    monkeypatch.undo()
    withdrawals.withdrawal_settle(withdrawal=withdrawal)
    withdrawal.refresh_from_db()
    assert withdrawal.refund_status == Withdrawal.RefundStatus.SUCCEEDED
    assert len(mail.outbox) == 1  # not again


# The pages --------------------------------------------------------------------------------------


def test_the_confirm_step_shows_the_contract_and_the_refund_and_asks_only_to_confirm(
    client_as_booker, booker
):
    pass_ = bought_pass(booker, uses_left=7)

    page = client_as_booker.get(url("pass", pass_.code)).content.decode()

    assert "Confirm withdrawal" in page
    assert "£70.00" in page and "3 of 10 uses taken" in page
    assert booker.email in page  # where the acknowledgement goes
    form = next(f for f in page.split("<form")[1:] if "Confirm withdrawal" in f.split("</form>")[0])
    form = form.split("</form>")[0]
    assert "Confirm withdrawal" in form
    assert form.count("<input") == 1 and "csrfmiddlewaretoken" in form  # no question but the button


def test_confirming_withdraws_and_shows_what_happened(client_as_booker, booker):
    pass_ = bought_pass(booker)

    response = client_as_booker.post(url("pass", pass_.code), follow=True)

    assert response.redirect_chain[-1][0] == url("pass", pass_.code)
    page = response.content.decode()
    assert "You have withdrawn from this contract" in page
    assert "You withdrew from this contract" in page and "Confirm withdrawal" not in page
    assert Withdrawal.objects.get().user == booker


def test_a_refused_withdrawal_says_why_and_changes_nothing(client_as_booker, booker):
    pass_ = bought_pass(booker, paid_at=timezone.now() - timedelta(days=20))

    page = client_as_booker.get(url("pass", pass_.code)).content.decode()
    assert "withdrawal period for this purchase ended" in page and "Confirm withdrawal" not in page

    response = client_as_booker.post(url("pass", pass_.code), follow=True)
    assert "withdrawal period for this purchase ended" in response.content.decode()
    assert not Withdrawal.objects.exists()


@pytest.mark.parametrize("kind", ["pass", "voucher", "membership"])
def test_another_bookers_contract_page_is_not_found(kind, client_as_booker, other_booker):
    code = {
        "pass": lambda: bought_pass(other_booker).code,
        "voucher": lambda: bought_voucher(other_booker).public_id,
        "membership": lambda: joined_membership(other_booker).code,
    }[kind]()
    assert client_as_booker.get(url(kind, code)).status_code == 404
    assert client_as_booker.post(url(kind, code)).status_code == 404
    assert not Withdrawal.objects.exists()


def test_every_kind_is_covered_by_these_tests():
    assert withdrawals.withdrawal_kinds() == ["membership", "pass", "voucher"]


def test_a_visitor_who_is_not_logged_in_is_asked_to_log_in(client, booker):
    pass_ = bought_pass(booker)
    response = client.post(url("pass", pass_.code))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    assert not Withdrawal.objects.exists()


def test_put_is_rejected(client_as_booker, booker):
    assert client_as_booker.put(url("pass", bought_pass(booker).code)).status_code == 405


def test_the_receipt_shows_the_withdrawal_refund(
    client_as_booker, booker, django_capture_on_commit_callbacks
):
    pass_ = bought_pass(booker, uses_left=7)
    with django_capture_on_commit_callbacks(execute=True):
        withdrawals.withdrawal_make(user=booker, kind="pass", code=str(pass_.code))

    page = client_as_booker.get(reverse("receipt_detail", kwargs={"kind": "pass", "ident": pass_.code}))

    assert "Withdrawal from the contract (done)" in page.content.decode()
    assert "£30.00" in page.content.decode()  # paid after refunds


# Where the function is offered ----------------------------------------------------------------


WITHDRAW = "Withdraw from contract here"


def test_a_recent_pass_offers_withdrawal_on_its_card_and_in_its_details(client_as_booker, booker):
    pass_ = bought_pass(booker)
    link = url("pass", pass_.code)

    assert link in client_as_booker.get(reverse("passes:pass_list")).content.decode()
    detail = client_as_booker.get(reverse("passes:pass_detail", kwargs={"code": pass_.code}))
    assert WITHDRAW in detail.content.decode() and link in detail.content.decode()


def test_an_old_pass_or_a_business_only_organisers_offers_no_withdrawal(client_as_booker, booker):
    old = bought_pass(booker, paid_at=timezone.now() - timedelta(days=15))
    business = bought_pass(
        booker, organiser=OrganiserFactory(sells_only_to_businesses=True), idempotency_key="other"
    )
    page = client_as_booker.get(reverse("passes:pass_list")).content.decode()
    assert WITHDRAW not in page
    for pass_ in (old, business):
        detail = client_as_booker.get(reverse("passes:pass_detail", kwargs={"code": pass_.code}))
        assert WITHDRAW not in detail.content.decode()


def test_a_bought_voucher_offers_withdrawal_and_a_receipt_to_its_buyer_only(
    client_as_booker, booker, other_booker
):
    voucher = bought_voucher(booker)
    detail = client_as_booker.get(reverse("vouchers:voucher_detail", kwargs={"public_id": voucher.public_id}))
    assert url("voucher", voucher.public_id) in detail.content.decode()
    assert (
        reverse("receipt_detail", kwargs={"kind": "voucher", "ident": voucher.public_id})
        in detail.content.decode()
    )

    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=booker, email=booker.email, verified=True, primary=True)
    gift = bought_voucher(other_booker, recipient_email=booker.email)
    received = client_as_booker.get(reverse("vouchers:voucher_detail", kwargs={"public_id": gift.public_id}))
    assert received.status_code == 200
    assert WITHDRAW not in received.content.decode() and "Receipt" not in received.content.decode()


def test_a_new_membership_offers_withdrawal_in_its_menu(client_as_booker, booker):
    membership = joined_membership(booker, organiser=OrganiserFactory())
    page = client_as_booker.get(reverse("memberships:membership_list")).content.decode()
    assert url("membership", membership.code) in page and WITHDRAW in page


def test_a_withdrawn_pass_offers_it_no_more(client_as_booker, booker):
    pass_ = bought_pass(booker)
    withdrawals.withdrawal_make(user=booker, kind="pass", code=str(pass_.code))
    detail = client_as_booker.get(reverse("passes:pass_detail", kwargs={"code": pass_.code}))
    assert WITHDRAW not in detail.content.decode()


def test_with_htmx_the_step_is_a_dialog_and_confirming_refreshes_the_page_it_opened_from(
    client_as_booker, booker, htmx
):
    pass_ = bought_pass(booker)

    dialog = client_as_booker.get(url("pass", pass_.code), **htmx)
    assert "<html" not in dialog.content.decode() and 'id="withdrawal-dialog"' in dialog.content.decode()
    assert "HX-Request" in dialog["Vary"]

    done = client_as_booker.post(
        url("pass", pass_.code), **htmx, HTTP_HX_CURRENT_URL="http://testserver/portal/passes/"
    )
    assert done.status_code == 200 and done["HX-Refresh"] == "true"
    assert Withdrawal.objects.count() == 1
    page = client_as_booker.get(reverse("passes:pass_list")).content.decode()
    assert "You have withdrawn from this contract" in page


def test_with_htmx_a_refused_withdrawal_stays_in_the_dialog_and_says_why(client_as_booker, booker, htmx):
    pass_ = bought_pass(booker, paid_at=timezone.now() - timedelta(days=30))

    response = client_as_booker.post(
        url("pass", pass_.code), **htmx, HTTP_HX_CURRENT_URL="http://testserver/portal/passes/"
    )

    assert response["HX-Retarget"] == "#modal"
    assert "withdrawal period for this purchase ended" in response.content.decode()
    assert not Withdrawal.objects.exists()


@pytest.mark.parametrize(
    "language,label,button",
    [
        ("de", "Vertrag hier widerrufen", "Widerruf bestätigen"),
        ("fr", "Se rétracter du contrat ici", "Confirmer la rétractation"),
        ("es", "Desistir del contrato aquí", "Confirmar el desistimiento"),
    ],
)
def test_the_function_carries_the_directives_wording_in_each_language(
    client_as_booker, booker, language, label, button
):
    # Art. 11a(1) CRD names the label; each language version of the Directive words it.
    booker.language = language
    booker.save(update_fields=["language"])
    pass_ = bought_pass(booker)

    assert label in client_as_booker.get(reverse("passes:pass_list")).content.decode()
    assert button in client_as_booker.get(url("pass", pass_.code)).content.decode()


def test_the_acknowledgement_speaks_the_bookers_language(booker, django_capture_on_commit_callbacks):
    booker.language = "de"
    booker.save(update_fields=["language"])
    pass_ = bought_pass(booker)

    with django_capture_on_commit_callbacks(execute=True):
        withdrawals.withdrawal_make(user=booker, kind="pass", code=str(pass_.code))

    (message,) = mail.outbox
    assert message.subject.startswith("Wir haben Ihren Widerruf")
    assert "Widerrufen am" in message.body
