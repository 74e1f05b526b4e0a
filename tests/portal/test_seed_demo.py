from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import User
from bookings import selectors
from bookings.models import Booking, WaitingListEntry
from portal.models import Organiser
from tests.factories import UserFactory

VOLATILE = {"updated_at", "last_login"}


def snapshot():
    """Every row of every model of ours, without timestamps that record when a row was touched."""
    rows = {}
    for model in apps.get_models():
        if model._meta.app_label in {"portal", "accounts", "bookings", "account", "memberships"}:
            fields = [f.attname for f in model._meta.concrete_fields if f.attname not in VOLATILE]
            rows[model._meta.label] = sorted(model.objects.values_list(*fields), key=repr)
    return rows


@pytest.mark.django_db
def test_seeding_twice_leaves_the_same_data():
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    first = snapshot()
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert snapshot() == first
    assert sum(len(rows) for rows in first.values()) > 30


@pytest.mark.django_db
def test_the_demo_has_what_the_design_promises():
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    riverside = Organiser.objects.get(slug="riverside-yoga")
    explorers = Organiser.objects.get(slug="little-explorers")
    assert riverside.plan == Organiser.Plan.STANDARD and riverside.attendance_tracking
    assert explorers.plan == Organiser.Plan.FREE and not explorers.attendance_tracking
    rules = riverside.bookingruless.get(event=None)
    assert (rules.transfers_allowed, rules.transfer_cutoff_hours) == (True, 24)
    assert (rules.cancellations_allowed, rules.cancellation_cutoff_hours) == (True, 48)
    assert not explorers.bookingruless.get(event=None).transfers_allowed

    demo = Booking.objects.filter(user__email="demo@example.com")
    for organiser in [riverside, explorers]:
        mine = demo.for_organiser(organiser)
        assert mine.filter(status="confirmed", event__starts_at__gt=_now()).exists()
        assert mine.filter(status="confirmed", event__starts_at__lt=_now()).exists()
        assert mine.filter(status="cancelled").exists()
        assert (
            WaitingListEntry.objects.for_organiser(organiser)
            .filter(user__email="demo@example.com", status="waiting", confirmed_at__isnull=False)
            .exists()
        )
    assert demo.filter(attendees__is_child=True).exists()
    assert riverside.events.filter(status="cancelled").exists()
    # A parent and child wait together for Messy Play, behind a guest: 2 places, all together.
    family = WaitingListEntry.objects.get(user__email="demo@example.com", event__title="Messy Play")
    assert (family.quantity, family.accepts_fewer) == (2, False)
    assert selectors.waiting_list_position(entry=family) == 2


def _now():
    from django.utils import timezone

    return timezone.now()


@pytest.mark.django_db
def test_demo_logins_work(client):
    call_command("seed_demo", stdout=open("/dev/null", "w"))

    response = client.post(
        reverse("account_login"), {"login": "demo@example.com", "password": "portal-demo-2026"}
    )
    assert response.status_code == 302
    assert client.get(reverse("bookings:event_list")).status_code == 200

    client.logout()
    assert client.login(username="staff@riverside-yoga.example", password="organiser-demo-2026")
    changelist = client.get(reverse("admin:bookings_event_changelist"))
    assert {e.organiser.slug for e in changelist.context["cl"].result_list} == {"riverside-yoga"}


# Production


@pytest.mark.django_db
def test_seeding_is_refused_in_production(settings):
    # The demo's passwords are public (README): an account with one of them is an open door.
    settings.DEBUG, settings.TESTING = False, False

    with pytest.raises(CommandError, match="--allow-production"):
        call_command("seed_demo", stdout=open("/dev/null", "w"))

    assert not User.objects.exists()


@pytest.mark.django_db
def test_a_demo_server_may_seed_with_an_explicit_flag(settings):
    settings.DEBUG, settings.TESTING = False, False

    call_command("seed_demo", "--allow-production", stdout=open("/dev/null", "w"))

    assert User.objects.get(email="demo@example.com").check_password("portal-demo-2026")


@pytest.mark.django_db
def test_seeding_again_never_resets_a_changed_password(client):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    demo = User.objects.get(email="demo@example.com")
    demo.set_password("my-own-secret-pass-77")
    demo.save()

    call_command("seed_demo", stdout=open("/dev/null", "w"))

    demo.refresh_from_db()
    assert demo.check_password("my-own-secret-pass-77")
    assert not demo.check_password("portal-demo-2026")


@pytest.mark.django_db
def test_seeding_never_promotes_or_verifies_an_existing_account():
    # Someone who signed up with the demo admin's address before seeding gets nothing from it.
    someone = UserFactory(email="admin@bookerportal.example", password="their-own-pass-phrase")
    EmailAddress.objects.create(user=someone, email=someone.email, primary=True, verified=False)

    call_command("seed_demo", stdout=open("/dev/null", "w"))

    someone.refresh_from_db()
    assert not someone.is_staff and not someone.is_superuser
    assert someone.check_password("their-own-pass-phrase")
    assert not EmailAddress.objects.get(user=someone).verified


@pytest.mark.django_db
def test_the_demo_tells_a_true_story():
    """Nothing in the demo contradicts itself: cancellations happened already, and every pass use
    and every pound spent from a voucher is a booking in its history."""
    from django.db.models import Sum
    from django.utils import timezone

    from bookings.models import Event
    from passes.models import Pass
    from vouchers.models import Voucher

    call_command("seed_demo", stdout=open("/dev/null", "w"))
    now = timezone.now()

    for booking in Booking.objects.exclude(cancelled_at=None):
        assert booking.cancelled_at <= now, booking.reference
        assert booking.cancelled_at <= booking.event.starts_at, booking.reference
    for event in Event.objects.exclude(cancelled_at=None):
        assert event.cancelled_at <= now, event.title

    for held in Pass.objects.all():
        used = held.redemptions.filter(returned_at=None).aggregate(n=Sum("uses"))["n"] or 0
        assert used, "the demo pass has been used: its history shows where"
        assert held.uses_left == held.uses_included - used
        for redemption in held.redemptions.all():
            assert redemption.booking.user_id == held.user_id
            assert redemption.booking.payment_method == Booking.PaymentMethod.PASS

    received = Voucher.objects.get(recipient_email="demo@example.com")
    spent = received.redemptions.filter(returned_at=None).aggregate(n=Sum("amount"))["n"] or 0
    assert spent and received.balance == received.value - spent
    for voucher in Voucher.objects.all():
        spent = voucher.redemptions.filter(returned_at=None).aggregate(n=Sum("amount"))["n"] or 0
        assert voucher.balance == voucher.value - spent, voucher.code
