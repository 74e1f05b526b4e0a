from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from bookings import rules, selectors, services
from bookings.models import AccountCredit, Booking, BookingFormField, BookingRules, Refund
from portal.payments import OfflineGateway
from tests.factories import BookingFactory, BookingFormFieldFactory, BookingRulesFactory, EventFactory

ADD = reverse("admin:bookings_bookingrules_add")


def rules_post(organiser, **overrides):
    data = {
        "organiser": organiser.pk,
        "event": "",
        "transfers_allowed": "on",
        "transfer_cutoff_hours": 24,
        "transfer_scope": "any",
        "price_difference": "settle",
        "cancellations_allowed": "on",
        "cancellation_cutoff_hours": 48,
        "refund_method": "original",
        "cancellation_fee": 0,
        "waiting_list_offer_hours": 24,
        "waiting_list_order": "strict",
        "waiting_list_offer_mode": "one",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def errors_for(response):
    assert response.status_code == 200, "the form should come back with errors"
    return {name: " ".join(errors) for name, errors in response.context["adminform"].form.errors.items()}


# Validation: nonsense is refused with a message that says what to do ----------------------------


@pytest.mark.django_db
def test_sensible_default_rules_are_saved(client_as_staff, organiser):
    response = client_as_staff.post(ADD, rules_post(organiser, cancellation_fee="2.50"))

    assert response.status_code == 302
    saved = BookingRules.objects.get(organiser=organiser, event=None)
    assert (saved.cancellation_fee, saved.refund_method) == (250, "original")


@pytest.mark.django_db
def test_a_fee_with_no_refund_is_refused(client_as_staff, organiser):
    response = client_as_staff.post(ADD, rules_post(organiser, refund_method="none", cancellation_fee=100))

    assert "A fee makes no sense when nothing is refunded." in errors_for(response)["cancellation_fee"]


@pytest.mark.django_db
def test_a_fee_without_cancellations_is_refused(client_as_staff, organiser):
    response = client_as_staff.post(
        ADD, rules_post(organiser, cancellations_allowed=None, cancellation_fee=100)
    )

    assert "only applies when bookers may cancel" in errors_for(response)["cancellation_fee"]


@pytest.mark.django_db
def test_a_cut_off_longer_than_a_year_is_refused(client_as_staff, organiser):
    response = client_as_staff.post(ADD, rules_post(organiser, transfer_cutoff_hours=9000))

    assert "longer than a year" in errors_for(response)["transfer_cutoff_hours"]


@pytest.mark.django_db
def test_chosen_events_scope_needs_events(client_as_staff, organiser):
    response = client_as_staff.post(ADD, rules_post(organiser, transfer_scope="chosen"))

    assert "Choose at least one event" in errors_for(response)["transfer_target_events"]


@pytest.mark.django_db
def test_chosen_events_are_refused_unless_transfers_are_limited_to_them(client_as_staff, organiser):
    target = EventFactory(organiser=organiser)

    response = client_as_staff.post(ADD, rules_post(organiser, transfer_target_events=[target.pk]))

    assert "not limited to chosen events" in errors_for(response)["transfer_target_events"]


@pytest.mark.django_db
def test_an_event_cannot_transfer_to_itself(client_as_staff, organiser):
    event = EventFactory(organiser=organiser)

    response = client_as_staff.post(
        ADD, rules_post(organiser, event=event.pk, transfer_scope="chosen", transfer_target_events=[event.pk])
    )

    assert "transfer target of itself" in errors_for(response)["transfer_target_events"]


@pytest.mark.django_db
def test_a_cancelled_event_is_refused_as_a_transfer_target(client_as_staff, organiser):
    gone = EventFactory(organiser=organiser, title="Gone", status="cancelled")

    response = client_as_staff.post(
        ADD, rules_post(organiser, transfer_scope="chosen", transfer_target_events=[gone.pk])
    )

    assert "“Gone” is cancelled" in errors_for(response)["transfer_target_events"]


@pytest.mark.django_db
def test_another_organisers_event_is_refused_as_a_transfer_target(
    client_as_staff, organiser, other_organiser
):
    theirs = EventFactory(organiser=other_organiser)

    response = client_as_staff.post(
        ADD, rules_post(organiser, transfer_scope="chosen", transfer_target_events=[theirs.pk])
    )

    assert "transfer_target_events" in errors_for(response)  # not even offered as a choice
    assert not BookingRules.objects.exists()


@pytest.mark.django_db
def test_a_second_set_of_default_rules_is_refused(client_as_staff, organiser):
    BookingRulesFactory(organiser=organiser, event=None)

    response = client_as_staff.post(ADD, rules_post(organiser))

    assert "You already have default rules: edit those instead." in str(
        response.context["adminform"].form.errors
    )


@pytest.mark.django_db
def test_every_rule_is_explained(client_as_staff):
    form = client_as_staff.get(ADD).context["adminform"].form

    for name in form.fields:
        if name != "organiser":
            assert form.fields[name].help_text, name


@pytest.mark.django_db
def test_an_event_can_override_the_rules_on_its_own_page(client_as_staff, organiser):
    event = EventFactory(organiser=organiser)
    target = EventFactory(organiser=organiser)
    url = reverse("admin:bookings_event_change", args=[event.pk])
    page = client_as_staff.get(url)
    data = {
        "title": event.title,
        "description": "",
        "venue": "",
        "starts_at_0": timezone.localtime(event.starts_at).strftime("%Y-%m-%d"),
        "starts_at_1": timezone.localtime(event.starts_at).strftime("%H:%M:%S"),
        "ends_at_0": timezone.localtime(event.ends_at).strftime("%Y-%m-%d"),
        "ends_at_1": timezone.localtime(event.ends_at).strftime("%H:%M:%S"),
        "capacity": 10,
    }
    for inline in page.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    data.update(
        {
            "rules-TOTAL_FORMS": 1,
            "rules-0-transfers_allowed": "on",
            "rules-0-transfer_cutoff_hours": 12,
            "rules-0-transfer_scope": "chosen",
            "rules-0-transfer_target_events": [target.pk],
            "rules-0-price_difference": "same_price",
            "rules-0-cancellation_cutoff_hours": 48,
            "rules-0-refund_method": "credit",
            "rules-0-cancellation_fee": 0,
            "rules-0-waiting_list_offer_hours": 6,
            "rules-0-waiting_list_order": "strict",
            "rules-0-waiting_list_offer_mode": "one",
        }
    )

    response = client_as_staff.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    override = BookingRules.objects.get(event=event)
    assert override.organiser == organiser  # from the event, never from input
    assert list(override.transfer_target_events.all()) == [target]
    assert rules.rules_for_event(event=event) == override


# The resolver ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_events_own_rules_win_over_the_default(organiser):
    event, other = EventFactory(organiser=organiser), EventFactory(organiser=organiser)
    default = BookingRulesFactory(organiser=organiser, event=None)
    own = BookingRulesFactory(organiser=organiser, event=event)

    assert rules.rules_for_event(event=event) == own
    assert rules.rules_for_event(event=other) == default


@pytest.mark.django_db
def test_without_saved_rules_the_built_in_defaults_apply(organiser, other_organiser):
    BookingRulesFactory(organiser=other_organiser, event=None)  # another tenant's rules never leak in
    event = EventFactory(organiser=organiser)

    found = rules.rules_for_event(event=event)

    assert found.pk is None
    assert (found.transfers_allowed, found.cancellations_allowed) == (False, False)
    assert found.refund_method == BookingRules.RefundMethod.ORIGINAL
    assert list(rules.transfer_targets_for_event(event=event)) == []


@pytest.mark.django_db
def test_transfer_targets_follow_the_scope(organiser, other_organiser):
    event = EventFactory(organiser=organiser)
    later, chosen = EventFactory(organiser=organiser), EventFactory(organiser=organiser)
    EventFactory(organiser=organiser, starts_at=timezone.now() - timedelta(days=1))  # past: never a target
    EventFactory(organiser=other_organiser)
    own = BookingRulesFactory(organiser=organiser, event=event, transfer_scope="any")

    # The event itself is always a target: another ticket type of it (#21).
    assert set(rules.transfer_targets_for_event(event=event)) == {event, later, chosen}
    own.transfer_scope = "chosen"
    own.save()
    own.transfer_target_events.set([chosen])
    assert set(rules.transfer_targets_for_event(event=event)) == {event, chosen}
    own.transfer_scope = "same_event"
    own.save()
    assert list(rules.transfer_targets_for_event(event=event)) == [event]


@pytest.mark.django_db
def test_an_events_own_questions_replace_the_default_questions(organiser):
    plain, special = EventFactory(organiser=organiser), EventFactory(organiser=organiser)
    default = BookingFormFieldFactory(organiser=organiser, label="Injuries?")
    own = BookingFormFieldFactory(organiser=organiser, event=special, label="Mat size?")

    assert list(selectors.booking_form_field_list_for_event(event=plain)) == [default]
    assert list(selectors.booking_form_field_list_for_event(event=special)) == [own]


@pytest.mark.django_db
def test_a_question_with_options_must_be_a_choice(organiser):
    field = BookingFormField(organiser=organiser, label="Size", field_type="text", choices="S\nM")

    with pytest.raises(ValidationError, match="only used by a choice field"):
        field.full_clean()


# booking_refund, for the booker's own cancellations ---------------------------------------------


@pytest.mark.django_db
def test_a_booker_cancellation_refund_keeps_the_fee_and_is_idempotent(organiser):
    BookingRulesFactory(organiser=organiser, event=None, cancellation_fee=300)
    booking = BookingFactory(organiser=organiser, total=2000, payment_reference="pay_1")

    with mock.patch.object(OfflineGateway, "refund", autospec=True, return_value="re_9") as gateway:
        first = services.booking_refund(booking=booking)
        again = services.booking_refund(booking=booking)

    assert first.pk == again.pk
    assert (first.amount, first.fee_kept, first.status) == (1700, 300, Refund.Status.SUCCEEDED)
    gateway.assert_called_once_with(
        mock.ANY,
        payment_reference="pay_1",
        amount=1700,
        idempotency_key=f"booking-{booking.pk}-refund-booker_cancelled",
    )


@pytest.mark.django_db
def test_a_voucher_paid_booking_is_refunded_as_account_credit(organiser):
    booking = BookingFactory(organiser=organiser, total=900, payment_method=Booking.PaymentMethod.VOUCHER)

    refund = services.booking_refund(booking=booking, keep_fee=False)

    assert refund.method == BookingRules.RefundMethod.CREDIT
    assert AccountCredit.objects.get(refund=refund).amount == 900


@pytest.mark.django_db
def test_a_free_booking_needs_no_refund(organiser):
    booking = BookingFactory(organiser=organiser, total=0, payment_method=Booking.PaymentMethod.FREE)

    with mock.patch.object(OfflineGateway, "refund") as gateway:
        refund = services.booking_refund(booking=booking)

    assert (refund.amount, refund.status) == (0, Refund.Status.SUCCEEDED)
    assert not gateway.called
