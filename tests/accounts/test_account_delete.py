"""Deleting an account: personal data goes everywhere, the bookings stay for the organisers."""

from __future__ import annotations

import json
from datetime import timedelta
from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db import connection
from django.db.models import Count, Sum
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import privacy, services
from accounts.models import User
from bookings import links
from bookings.models import Attendee, Booking, WaitingListEntry
from memberships.models import Membership
from portal.exceptions import PaymentError
from portal.models import StripeEvent
from tests.factories import (
    PASSWORD,
    AccountCreditFactory,
    AttendeeFactory,
    BookingFactory,
    BookingFormResponseFactory,
    EventFactory,
    RefundFactory,
    UserFactory,
    WaitingListEntryFactory,
    WithdrawalFactory,
)
from tests.memberships.factories import MembershipFactory
from tests.passes.factories import PassFactory
from tests.vouchers.factories import VoucherFactory

EMAIL = "bea.booker@example.com"
NAME = "Beatrix Quillfeather"
PHONE = "07700 900123"
CHILD = "Kit Quillfeather"
ANSWER = "Beatrix has a sore left knee"
VOUCHER_MESSAGE = "Happy birthday, love from Beatrix"
PERSONAL = [EMAIL, NAME, PHONE, CHILD, ANSWER, VOUCHER_MESSAGE]


@pytest.fixture
def bea(db):
    # The booker who deletes her account: a name and address found nowhere else.
    user = UserFactory(email=EMAIL, name=NAME)
    EmailAddress.objects.create(user=user, email=EMAIL, primary=True, verified=True)
    return user


@pytest.fixture
def her_things(bea, organiser, other_organiser):
    """Everything a booker leaves behind at two organisers."""
    upcoming = BookingFactory(
        organiser=organiser, user=bea, booker_name=NAME, booker_email=EMAIL, booker_phone=PHONE, total=2500
    )
    AttendeeFactory(booking=upcoming, name=NAME, price=1500)
    AttendeeFactory(booking=upcoming, name=CHILD, is_child=True, price=1000)
    BookingFormResponseFactory(booking=upcoming, answer=ANSWER)
    past = BookingFactory(
        organiser=other_organiser,
        user=bea,
        booker_name=NAME,
        booker_email=EMAIL,
        event=EventFactory(organiser=other_organiser, starts_at=timezone.now() - timedelta(days=3)),
        total=900,
    )
    AttendeeFactory(booking=past, name=NAME, price=900)
    # Booked as a guest with the same (verified) address, before she had an account.
    guest = BookingFactory(organiser=organiser, user=None, booker_name=NAME, booker_email=EMAIL.upper())
    AttendeeFactory(booking=guest, name=NAME, price=1000)
    WaitingListEntryFactory(organiser=organiser, user=bea, name=NAME, email=EMAIL)
    AccountCreditFactory(organiser=organiser, refund=RefundFactory(booking=upcoming), user=bea, email=EMAIL)
    MembershipFactory(organiser=organiser, user=bea, card_brand="Visa", card_last4="4242")
    PassFactory(organiser=organiser, user=bea, buyer_email=EMAIL)
    VoucherFactory(
        organiser=organiser,
        buyer=bea,
        buyer_email=EMAIL,
        recipient_name="Rae Friend",
        message=VOUCHER_MESSAGE,
    )
    VoucherFactory(organiser=other_organiser, recipient_name=NAME, recipient_email=EMAIL)
    WithdrawalFactory(organiser=organiser, user=bea, email=EMAIL, description=f"Gift voucher for {NAME}")
    StripeEvent.objects.create(
        event_id="evt_1",
        type="checkout.session.completed",
        created=timezone.now(),
        data={"object": {"customer_details": {"email": EMAIL, "name": NAME}, "amount_total": 2500}},
    )
    LogEntry.objects.create(
        user=UserFactory(is_staff=True, is_superuser=True),
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(bea.pk),
        object_repr=str(bea),
        action_flag=CHANGE,
    )
    return {"upcoming": upcoming, "past": past, "guest": guest}


@pytest.fixture
def someone_else(organiser):
    # Another booker at the same organiser: nothing of theirs may change.
    other = UserFactory(email="otto@example.com", name="Otto Other")
    booking = BookingFactory(
        organiser=organiser, user=other, booker_name="Otto Other", booker_email=other.email
    )
    AttendeeFactory(booking=booking, name="Otto Other")
    return booking


def logged_in_client(email=EMAIL) -> Client:
    client = Client()
    response = client.post(reverse("account_login"), {"login": email, "password": PASSWORD})
    assert response.status_code == 302, "the login should work"
    return client


def report_per_organiser():
    """What organisers report on: bookings, tickets, money and dates."""
    rows = Booking.objects.values("organiser").annotate(
        bookings=Count("pk", distinct=True), total=Sum("total"), tickets=Count("attendees")
    )
    dates = sorted(Booking.objects.values_list("organiser", "created_at", "event__starts_at", "status"))
    return sorted((r["organiser"], r["bookings"], r["total"], r["tickets"]) for r in rows), dates


def personal_values_left(values: list[str]) -> list[str]:
    """Every column of every table (read raw, whatever its type) and every decoded session."""
    found = []
    needles = [v.lower() for v in values]
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                text = " ".join(str(cell) for cell in row).lower()
                found += [f"{table}: {v}" for v in needles if v in text]
    for session in Session.objects.all():
        text = json.dumps(session.get_decoded()).lower()
        found += [f"session: {v}" for v in needles if v in text]
    return found


@pytest.mark.django_db
def test_after_deletion_no_personal_value_of_the_booker_remains_anywhere_in_the_database(
    bea, her_things, someone_else, django_capture_on_commit_callbacks
):
    client = logged_in_client()
    elsewhere = logged_in_client()  # her phone: its session remembers the address she logged in with
    assert personal_values_left(PERSONAL), "the scan finds the data before deletion"
    report_before = report_per_organiser()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:account_delete"), {"password": PASSWORD})

    assert response.status_code == 302
    assert personal_values_left(PERSONAL) == []
    assert report_per_organiser() == report_before
    assert not User.objects.filter(pk=bea.pk).exists()
    assert not EmailAddress.objects.filter(email__iexact=EMAIL).exists()
    assert elsewhere.get(reverse("accounts:account")).status_code == 302  # logged out there too


@pytest.mark.django_db
def test_deleted_bookings_read_deleted_booker_and_keep_their_tickets_amounts_and_dates(bea, her_things):
    booking = her_things["upcoming"]
    services.account_delete(user=bea, password=PASSWORD)

    after = Booking.objects.get(pk=booking.pk)
    assert after.booker_name == "Deleted booker"
    assert after.booker_email.startswith("deleted-") and after.booker_email.endswith("@invalid")
    assert after.booker_phone == ""
    assert after.user is None
    assert (after.status, after.total, after.event_id, after.created_at) == (
        booking.status,
        booking.total,
        booking.event_id,
        booking.created_at,
    )
    assert sorted(after.attendees.values_list("price", "is_child")) == [(1000, True), (1500, False)]
    assert set(Attendee.objects.filter(booking=after).values_list("name", flat=True)) == {"Deleted attendee"}
    assert after.responses.get().answer == "(deleted)"


@pytest.mark.django_db
def test_the_organiser_admin_shows_the_booking_as_deleted_booker(bea, her_things, client_as_staff):
    services.account_delete(user=bea, password=PASSWORD)

    response = client_as_staff.get(reverse("admin:bookings_booking_changelist"))

    assert "Deleted booker" in response.content.decode()
    assert NAME not in response.content.decode()


@pytest.mark.django_db
def test_another_bookers_data_is_untouched(bea, her_things, someone_else):
    services.account_delete(user=bea, password=PASSWORD)

    someone_else.refresh_from_db()
    assert (someone_else.booker_name, someone_else.booker_email) == ("Otto Other", "otto@example.com")
    assert someone_else.attendees.get().name == "Otto Other"
    assert User.objects.filter(email="otto@example.com").exists()


@pytest.mark.django_db
def test_old_view_booking_links_stop_working(bea, her_things):
    booking = her_things["upcoming"]
    path = links.view_booking_url(booking).removeprefix("http://testserver")
    detail = reverse("bookings:booking_detail", args=[booking.reference])
    opened_before = Client()
    assert opened_before.get(path).status_code == 302  # the link grants the booking...
    assert opened_before.get(detail).status_code == 200

    services.account_delete(user=bea, password=PASSWORD)

    assert Client().get(path).status_code == 404
    assert opened_before.get(detail).status_code == 404  # ...and the grant it gave is revoked too


@pytest.mark.django_db
def test_the_old_password_no_longer_logs_in(bea, her_things):
    services.account_delete(user=bea, password=PASSWORD)

    response = Client().post(reverse("account_login"), {"login": EMAIL, "password": PASSWORD})

    assert response.status_code == 200  # the form again, with an error
    assert "_auth_user_id" not in Client().session


@pytest.mark.django_db
def test_her_waiting_list_places_are_left_so_the_next_person_can_be_offered_the_seat(bea, her_things):
    services.account_delete(user=bea, password=PASSWORD)

    entry = WaitingListEntry.objects.get(name="Deleted booker")
    assert entry.status == WaitingListEntry.Status.LEFT


@pytest.mark.django_db
def test_a_place_waiting_for_her_confirmation_closes_so_its_link_confirms_nothing(bea, her_things, organiser):
    entry = WaitingListEntryFactory(
        organiser=organiser, email=EMAIL, status=WaitingListEntry.Status.UNCONFIRMED, confirmed_at=None
    )
    link = links.waiting_list_confirm_url(entry).removeprefix(settings.SITE_URL)

    services.account_delete(user=bea, password=PASSWORD)

    assert Client().post(link).status_code == 404  # no placeholder address ever joins the queue
    entry.refresh_from_db()
    assert entry.status == WaitingListEntry.Status.LEFT


@pytest.mark.django_db
def test_active_memberships_are_cancelled_at_the_end_of_the_period(bea, her_things):
    membership = Membership.objects.get(user=bea)

    summary = services.account_delete(user=bea, password=PASSWORD)

    membership.refresh_from_db()
    assert summary.ended == {"memberships": 1}
    assert membership.cancel_at_period_end is True
    assert membership.status == Membership.Status.ACTIVE  # until the period paid for ends
    assert (membership.card_brand, membership.card_last4, membership.user) == ("", "", None)


@pytest.mark.django_db
def test_a_membership_that_cannot_be_cancelled_stops_the_deletion_and_nothing_changes(bea, her_things):
    before = personal_values_left(PERSONAL)
    with mock.patch(
        "memberships.services.get_gateway",
        return_value=mock.Mock(cancel_subscription_at_period_end=mock.Mock(side_effect=PaymentError())),
    ):
        Membership.objects.filter(user=bea).update(gateway="stripe")
        with pytest.raises(services.AccountError, match="could not cancel"):
            services.account_delete(user=bea, password=PASSWORD)

    assert User.objects.filter(pk=bea.pk).exists()
    assert personal_values_left(PERSONAL) == before
    assert Membership.objects.get(user=bea).cancel_at_period_end is False


@pytest.mark.django_db
def test_a_wrong_password_changes_nothing(bea, her_things):
    before = personal_values_left(PERSONAL)
    secret = Booking.objects.get(pk=her_things["upcoming"].pk).link_secret

    with pytest.raises(services.WrongPassword):
        services.account_delete(user=bea, password="not-my-password")

    assert User.objects.filter(pk=bea.pk).exists()
    assert personal_values_left(PERSONAL) == before
    assert Booking.objects.get(pk=her_things["upcoming"].pk).link_secret == secret
    assert Membership.objects.get(user=bea).cancel_at_period_end is False


@pytest.mark.django_db
def test_deleting_twice_changes_nothing_the_second_time(bea, her_things, someone_else):
    services.account_delete(user=bea, password=PASSWORD)
    snapshot = sorted(
        Booking.objects.values_list("pk", "booker_name", "booker_email", "link_secret", "total")
    )

    with pytest.raises(services.AccountError, match="already been deleted"):
        services.account_delete(user=bea, password=PASSWORD)

    assert sorted(
        Booking.objects.values_list("pk", "booker_name", "booker_email", "link_secret", "total")
    ) == (snapshot)


@pytest.mark.django_db
def test_an_organiser_account_cannot_be_deleted_here(staff):
    with pytest.raises(services.AccountError, match="Organiser accounts"):
        services.account_delete(user=staff, password=PASSWORD)

    assert User.objects.filter(pk=staff.pk).exists()


@pytest.mark.django_db
def test_every_app_erases_in_one_transaction_so_a_failure_in_the_last_changes_nothing(
    bea, her_things, monkeypatch
):
    before = personal_values_left(PERSONAL)
    monkeypatch.setattr(privacy, "_SHREDDERS", dict(privacy._SHREDDERS))

    def broken(erasure):
        raise RuntimeError("the last app to run fails")

    privacy.register("zz-last", scrub=broken)  # runs after every app has anonymised its rows

    with pytest.raises(RuntimeError):
        services.account_delete(user=bea, password=PASSWORD)

    assert User.objects.filter(pk=bea.pk).exists()
    assert personal_values_left(PERSONAL) == before
