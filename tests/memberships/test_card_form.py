"""The offline gateway's card form speaks the portal's words and refuses numbers that cannot be
a card (the Luhn check every card number passes)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from memberships.forms import CardForm

NEXT_YEAR = str(timezone.now().year + 1)


def errors(**data) -> dict:
    form = CardForm(
        {"number": "4242 4242 4242 4242", "exp_month": "12", "exp_year": NEXT_YEAR, "cvc": "123", **data}
    )
    form.is_valid()
    return form.errors


def test_good_card_details_pass():
    assert errors() == {}


@pytest.mark.parametrize("month", ["13", "0", "-1", "twelve", ""])
def test_a_wrong_expiry_month_asks_to_check_it_in_plain_words(month):
    assert errors(exp_month=month)["exp_month"] == ["Check the expiry month (1 to 12)."]


@pytest.mark.parametrize("year", ["1999", "3000", "next"])
def test_a_wrong_expiry_year_asks_to_check_it(year):
    assert errors(exp_year=year)["exp_year"] == ["Check the expiry year."]


@pytest.mark.parametrize("number", ["4242 4242 4242 4241", "1234 5678 9012 3456", "5555555555554440"])
def test_a_number_failing_the_luhn_check_is_refused(number):
    assert errors(number=number)["number"] == ["Check the card number: it doesn't look right."]


def test_no_django_wording_reaches_the_booker():
    for data in [{"exp_month": "13"}, {"exp_year": "1999"}, {"number": ""}, {"cvc": "12"}]:
        for messages in errors(**data).values():
            assert not any("Ensure this value" in m or "This field is required" in m for m in messages)


def test_the_offline_gateway_refuses_a_number_failing_the_luhn_check_too():
    from portal.payments import OfflineGateway, PaymentError

    gateway = OfflineGateway()
    with pytest.raises(PaymentError):
        gateway.update_card(
            customer_reference="c", number="4242424242424241", exp_month=12, exp_year=2099, cvc="123"
        )
    assert (
        gateway.update_card(
            customer_reference="c", number="4242424242424242", exp_month=12, exp_year=2099, cvc="123"
        ).last4
        == "4242"
    )
