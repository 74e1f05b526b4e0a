"""Money in the organiser admin is typed and shown in the organiser's currency ("2.50", with its
symbol), checked for the currency's decimals, and stored as minor units as before."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bookings.models import BookingRules, TicketType
from memberships.models import MembershipPlan
from passes.models import PassType
from tests.admin.test_rules import ADD, errors_for, rules_post
from tests.factories import BookingRulesFactory, EventFactory, TicketTypeFactory
from tests.passes.factories import PassTypeFactory


@pytest.mark.django_db
def test_a_cancellation_fee_is_typed_in_pounds_and_stored_in_pence(client_as_staff, organiser):
    response = client_as_staff.post(ADD, rules_post(organiser, cancellation_fee="2.50"))

    assert response.status_code == 302
    assert BookingRules.objects.get(organiser=organiser, event=None).cancellation_fee == 250


@pytest.mark.django_db
def test_the_form_shows_the_amount_in_pounds_with_the_symbol_and_no_minor_units_help(
    client_as_staff, organiser
):
    rules = BookingRulesFactory(organiser=organiser, cancellation_fee=250)

    html = client_as_staff.get(
        reverse("admin:bookings_bookingrules_change", args=[rules.pk])
    ).content.decode()

    assert 'value="2.50"' in html
    assert "£" in html
    assert "minor units" not in html and "250 = " not in html


@pytest.mark.django_db
def test_more_decimals_than_the_currency_has_are_refused(client_as_staff, organiser):
    response = client_as_staff.post(ADD, rules_post(organiser, cancellation_fee="2.505"))

    assert "2 decimal places" in errors_for(response)["cancellation_fee"]


@pytest.mark.django_db
def test_a_zero_decimal_currency_takes_whole_numbers_only(client_as_staff, organiser):
    organiser.currency = "JPY"
    organiser.save()

    refused = client_as_staff.post(ADD, rules_post(organiser, cancellation_fee="2.5"))
    assert "whole number" in errors_for(refused)["cancellation_fee"]

    accepted = client_as_staff.post(ADD, rules_post(organiser, cancellation_fee="500"))
    assert accepted.status_code == 302
    assert BookingRules.objects.get(organiser=organiser, event=None).cancellation_fee == 500


@pytest.mark.django_db
def test_a_negative_or_nonsense_amount_is_refused(client_as_staff, organiser):
    for typed in ["-1", "abc", "1e3"]:
        response = client_as_staff.post(ADD, rules_post(organiser, cancellation_fee=typed))
        assert "cancellation_fee" in errors_for(response), typed


@pytest.mark.django_db
def test_a_ticket_price_in_the_event_page_is_in_pounds(client_as_staff, organiser):
    ticket = TicketTypeFactory(event=EventFactory(organiser=organiser), price=1200)

    html = client_as_staff.get(
        reverse("admin:bookings_event_change", args=[ticket.event.pk])
    ).content.decode()

    assert 'value="12.00"' in html


@pytest.mark.django_db
def test_pass_and_plan_prices_are_in_pounds(client_as_staff, organiser):
    pass_type = PassTypeFactory(organiser=organiser, price=6000)
    html = client_as_staff.get(reverse("admin:passes_passtype_change", args=[pass_type.pk])).content.decode()
    assert 'value="60.00"' in html

    changelist = client_as_staff.get(reverse("admin:passes_passtype_changelist")).content.decode()
    assert "£60.00" in changelist


@pytest.mark.django_db
def test_an_unchanged_amount_is_not_a_change(client_as_staff, organiser):
    """The admin's history would otherwise say "Changed price" on every save."""
    from django.contrib.admin.models import LogEntry

    rules = BookingRulesFactory(organiser=organiser, cancellation_fee=250)
    url = reverse("admin:bookings_bookingrules_change", args=[rules.pk])
    response = client_as_staff.post(
        url, rules_post(organiser, cancellation_fee="2.50", waiting_list_offer_hours=12)
    )

    assert response.status_code == 302
    assert "Cancellation fee" not in LogEntry.objects.latest("pk").get_change_message()


def test_models_still_store_minor_units():
    for model, field in [
        (TicketType, "price"),
        (BookingRules, "cancellation_fee"),
        (PassType, "price"),
        (MembershipPlan, "price"),
    ]:
        assert model._meta.get_field(field).get_internal_type() == "PositiveIntegerField"


@pytest.mark.django_db
def test_a_voucher_is_issued_in_pounds_and_its_balance_shows_in_pounds(
    client_as_staff, organiser, mailoutbox
):
    from vouchers.models import Voucher

    response = client_as_staff.post(
        reverse("admin:vouchers_voucher_add"),
        {
            "organiser": organiser.pk,
            "value": "25.00",
            "recipient_name": "Rae",
            "recipient_email": "rae@example.com",
            "message": "",
            "expires_at": "",
        },
    )

    assert response.status_code == 302
    voucher = Voucher.objects.get()
    assert (voucher.value, voucher.balance) == (2500, 2500)
    page = client_as_staff.get(reverse("admin:vouchers_voucher_change", args=[voucher.pk])).content.decode()
    assert "£25.00" in page
