"""Every portal page issues the same number of SQL queries whatever the booker's data size, and
never more than MAX_QUERIES: no per-row queries. Each page is loaded with a few rows,
then with many, and the two counts must match."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings.models import Attendee, Booking, BookingFormResponse, WaitingListEntry
from memberships.models import Membership
from passes.models import Pass, PassRedemption
from tests.factories import (
    AttendeeFactory,
    BookingFactory,
    BookingFormResponseFactory,
    BookingRulesFactory,
    EventFactory,
    OrganiserFactory,
    TicketTypeFactory,
)
from tests.memberships.factories import MembershipFactory, MembershipInvoiceFactory, MembershipPlanFactory
from tests.passes.factories import PassFactory, PassRedemptionFactory, PassTypeFactory
from tests.vouchers.factories import VoucherFactory, VoucherRedemptionFactory
from vouchers.models import Voucher, VoucherRedemption

MAX_QUERIES = 12
SMALL, LARGE = 5, 200

pytestmark = pytest.mark.django_db


def count_queries(client, url, django_assert_max_num_queries) -> int:
    with django_assert_max_num_queries(MAX_QUERIES) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def assert_constant(client, url, grow, django_assert_max_num_queries):
    """Load `url` at SMALL rows, grow the data to LARGE, load it again: same count, both bounded."""
    grow(SMALL)
    small = count_queries(client, url, django_assert_max_num_queries)
    grow(LARGE)
    large = count_queries(client, url, django_assert_max_num_queries)
    assert small == large, f"{url}: {small} queries with {SMALL} rows, {large} with {LARGE}"


class BookerData:
    """A booker's bookings at two organisers (one with attendance tracking and rules that allow
    transfers and cancellations), grown in place: upcoming, past, cancelled, waiting list."""

    def __init__(self, booker):
        self.booker = booker
        self.organisers = [
            OrganiserFactory(attendance_tracking=True, time_zone="Europe/London"),
            OrganiserFactory(plan="free", time_zone="America/New_York"),
        ]
        BookingRulesFactory(organiser=self.organisers[0], event=None)
        self.made = 0

    def grow(self, total: int) -> None:
        now = timezone.now()
        while self.made < total:
            i = self.made
            organiser = self.organisers[i % 2]
            for kind, starts in (
                ("upcoming", now + timedelta(days=1 + i)),
                ("past", now - timedelta(days=1 + i)),
            ):
                event = EventFactory(organiser=organiser, starts_at=starts, title=f"{kind} {i}")
                ticket = TicketTypeFactory(event=event)
                booking = BookingFactory(event=event, user=self.booker, booker_email=self.booker.email)
                AttendeeFactory(booking=booking, ticket_type=ticket, name=f"Adult {i}")
                AttendeeFactory(booking=booking, ticket_type=ticket, name=f"Child {i}", is_child=True)
            cancelled = EventFactory(organiser=organiser, starts_at=now + timedelta(days=2 + i))
            BookingFactory(
                event=cancelled,
                user=self.booker,
                status=Booking.Status.CANCELLED,
                cancelled_by=Booking.CancelledBy.BOOKER,
                cancelled_at=now,
            )
            full = EventFactory(organiser=organiser, starts_at=now + timedelta(days=3 + i))
            WaitingListEntry.objects.create(
                organiser=organiser,
                event=full,
                user=self.booker,
                name="Bea",
                email=f"w{i}@example.com",
                status=WaitingListEntry.Status.WAITING,
                confirmed_at=now,
            )
            self.made += 1


@pytest.fixture
def booker_data(booker):
    return BookerData(booker)


@pytest.fixture
def bench_views(settings):
    # The benchmarks' baseline page exists only where bench/ turns it on (or with DEBUG on).
    settings.BENCH_VIEWS = True


@pytest.mark.parametrize("debug", [False, True])
def test_the_baseline_page_is_not_served_in_production(client, booker, settings, debug):
    settings.DEBUG, settings.BENCH_VIEWS = debug, False

    anonymous = client.get(reverse("portal_baseline")).status_code
    client.force_login(booker)
    logged_in = client.get(reverse("portal_baseline")).status_code

    assert (anonymous, logged_in) == ((302, 200) if debug else (404, 404))


def test_the_baseline_page_asks_for_a_login(client, bench_views):
    response = client.get(reverse("portal_baseline"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_baseline_page_is_the_layout_and_nothing_else(client_as_booker, booker_data, bench_views):
    booker_data.grow(SMALL)

    response = client_as_booker.get(reverse("portal_baseline"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'aria-label="Portal sections"' in html
    assert "upcoming 0" not in html


def test_the_baseline_page_queries_do_not_grow_with_bookings(
    client_as_booker, booker_data, bench_views, django_assert_max_num_queries
):
    assert_constant(
        client_as_booker, reverse("portal_baseline"), booker_data.grow, django_assert_max_num_queries
    )


@pytest.mark.parametrize("tab", ["upcoming", "cancelled", "past", "waiting"])
def test_each_events_tab_queries_do_not_grow_with_bookings(
    client_as_booker, booker_data, django_assert_max_num_queries, tab
):
    url = f"{reverse('bookings:event_list')}?tab={tab}"
    assert_constant(client_as_booker, url, booker_data.grow, django_assert_max_num_queries)


def test_the_events_page_filtered_to_an_organiser_queries_do_not_grow(
    client_as_booker, booker_data, django_assert_max_num_queries
):
    url = f"{reverse('bookings:event_list')}?tab=upcoming&organiser={booker_data.organisers[0].slug}"
    assert_constant(client_as_booker, url, booker_data.grow, django_assert_max_num_queries)


def test_the_memberships_page_queries_do_not_grow_with_memberships(
    client_as_booker, booker, django_assert_max_num_queries
):
    organisers = [OrganiserFactory(), OrganiserFactory(plan="premium")]

    def grow(total):
        while Membership.objects.filter(user=booker).count() < total:
            n = Membership.objects.filter(user=booker).count()
            plan = MembershipPlanFactory(organiser=organisers[n % 2])
            status = Membership.Status.ACTIVE if n % 2 else Membership.Status.CANCELED
            membership = MembershipFactory(plan=plan, user=booker, status=status, card_last4="4242")
            MembershipInvoiceFactory(membership=membership)

    assert_constant(
        client_as_booker, reverse("memberships:membership_list"), grow, django_assert_max_num_queries
    )


def test_a_booking_detail_queries_do_not_grow_with_attendees_and_answers(
    client_as_booker, booker, django_assert_max_num_queries
):
    booking = BookingFactory(user=booker, booker_email=booker.email)
    ticket = TicketTypeFactory(event=booking.event)

    def grow(total):
        while Attendee.objects.filter(booking=booking).count() < total:
            AttendeeFactory(booking=booking, ticket_type=ticket)
            BookingFormResponseFactory(booking=booking)
        assert BookingFormResponse.objects.filter(booking=booking).count() == total

    url = reverse("bookings:booking_detail", args=[booking.reference])
    assert_constant(client_as_booker, url, grow, django_assert_max_num_queries)


def test_the_passes_page_queries_do_not_grow_with_passes(
    client_as_booker, booker, django_assert_max_num_queries
):
    organisers = [OrganiserFactory(), OrganiserFactory(plan="premium")]

    def grow(total):
        while Pass.objects.filter(user=booker).count() < total:
            n = Pass.objects.filter(user=booker).count()
            ended = {} if n % 2 else {"valid_until": timezone.now() - timedelta(days=1)}  # inactive
            PassFactory(pass_type=PassTypeFactory(organiser=organisers[n % 2]), user=booker, **ended)

    assert_constant(client_as_booker, reverse("passes:pass_list"), grow, django_assert_max_num_queries)


def test_a_pass_detail_queries_do_not_grow_with_its_uses(
    client_as_booker, booker, django_assert_max_num_queries
):
    booker_pass = PassFactory(user=booker, uses_included=LARGE, uses_left=LARGE)

    def grow(total):
        while PassRedemption.objects.filter(booker_pass=booker_pass).count() < total:
            PassRedemptionFactory(booker_pass=booker_pass, booking__user=booker)

    url = reverse("passes:pass_detail", args=[booker_pass.code])
    assert_constant(client_as_booker, url, grow, django_assert_max_num_queries)


def test_the_vouchers_page_queries_do_not_grow_with_vouchers(
    client_as_booker, booker, django_assert_max_num_queries
):
    organisers = [OrganiserFactory(), OrganiserFactory(plan="premium")]

    def grow(total):
        while Voucher.objects.filter(buyer=booker).count() < total:
            n = Voucher.objects.filter(buyer=booker).count()
            VoucherFactory(organiser=organisers[n % 2], buyer=booker, source=Voucher.Source.BOUGHT)

    assert_constant(client_as_booker, reverse("vouchers:voucher_list"), grow, django_assert_max_num_queries)


def test_a_voucher_detail_queries_do_not_grow_with_its_uses(
    client_as_booker, booker, django_assert_max_num_queries
):
    voucher = VoucherFactory(buyer=booker, source=Voucher.Source.BOUGHT, value=100_000)

    def grow(total):
        while VoucherRedemption.objects.filter(voucher=voucher).count() < total:
            VoucherRedemptionFactory(voucher=voucher, amount=100)

    url = reverse("vouchers:voucher_detail", args=[voucher.public_id])
    assert_constant(client_as_booker, url, grow, django_assert_max_num_queries)
