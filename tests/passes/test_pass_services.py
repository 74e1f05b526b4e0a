"""Passes: buying, spending uses at booking, refusals, and giving uses back once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings import services as booking_services
from bookings.models import Booking
from passes import services
from passes.models import Pass, PassRedemption, PassType
from passes.services import PassError
from tests.factories import EventFactory, TicketTypeFactory, UserFactory
from tests.passes.factories import PassFactory, PassTypeFactory

pytestmark = pytest.mark.django_db


def book(event, user, *, pass_=None, voucher_code="", tickets=1, key=None):
    ticket = event.ticket_types.first() or TicketTypeFactory(event=event, price=1200)
    return booking_services.booking_create(
        request=booking_services.BookingRequest(
            event=event,
            booker=booking_services.Booker(
                name="Bea Booker", email=user.email if user else "guest@example.com", user=user
            ),
            tickets=[
                booking_services.TicketRequest(ticket_type=ticket, attendee_name=f"A{i}")
                for i in range(tickets)
            ],
            idempotency_key=key or f"k-{timezone.now().timestamp()}-{tickets}",
            pass_=pass_,
            voucher_code=voucher_code,
        )
    )


@pytest.fixture
def event(organiser):
    event = EventFactory(organiser=organiser)
    TicketTypeFactory(event=event, price=1200)
    return event


def test_buying_a_pass_offline_makes_it_active_at_once_for_its_days(organiser, booker):
    pass_type = PassTypeFactory(organiser=organiser, price=6000, uses_included=5, validity_days=30)

    purchase = services.pass_buy(
        user=booker, pass_type=pass_type, success_url="/ok", cancel_url="/no", idempotency_key="buy-1"
    )

    pass_ = purchase.pass_
    assert purchase.redirect_url == ""
    assert pass_.status == Pass.Status.ACTIVE and pass_.payment_reference
    assert (pass_.uses_included, pass_.uses_left, pass_.price) == (5, 5, 6000)
    assert pass_.valid_until - pass_.valid_from == timedelta(days=30)
    # The same form posted again is the same pass, not a second one.
    again = services.pass_buy(
        user=booker, pass_type=pass_type, success_url="/ok", cancel_url="/no", idempotency_key="buy-1"
    )
    assert again.pass_.pk == pass_.pk and Pass.objects.count() == 1


def test_a_free_plan_organiser_sells_no_passes(organiser, booker):
    organiser.plan = organiser.Plan.FREE
    organiser.save()
    pass_type = PassTypeFactory(organiser=organiser)

    with pytest.raises(PassError, match="not on sale"):
        services.pass_buy(
            user=booker, pass_type=pass_type, success_url="/", cancel_url="/", idempotency_key="x"
        )
    assert not Pass.objects.exists()


def test_a_fixed_dates_pass_lasts_from_the_first_to_the_end_of_the_last_day(organiser, booker):
    today = timezone.localdate()
    pass_type = PassTypeFactory(
        organiser=organiser,
        validity=PassType.Validity.DATES,
        validity_days=None,
        valid_from=today,
        valid_until=today + timedelta(days=9),
    )
    pass_ = services.pass_buy(
        user=booker, pass_type=pass_type, success_url="/", cancel_url="/", idempotency_key="d"
    ).pass_
    assert timezone.localtime(pass_.valid_from, organiser.tzinfo).date() == today
    assert timezone.localtime(pass_.valid_until, organiser.tzinfo).date() == today + timedelta(days=10)


def test_booking_with_a_pass_spends_one_use_per_ticket_and_is_paid_in_full(organiser, booker, event):
    pass_ = PassFactory(organiser=organiser, user=booker, uses_included=5)

    booking = book(event, booker, pass_=pass_, tickets=2)

    pass_.refresh_from_db()
    assert pass_.uses_left == 3
    assert booking.status == Booking.Status.CONFIRMED
    assert (booking.total, booking.payment_method) == (0, Booking.PaymentMethod.PASS)
    assert PassRedemption.objects.get(booking=booking).uses == 2


@pytest.mark.parametrize(
    "change,message",
    [
        ({"valid_until": timezone.now() - timedelta(hours=1)}, "expired on"),
        ({"uses_left": 0}, "no uses left"),
        ({"status": Pass.Status.VOID}, "cancelled"),
        ({"status": Pass.Status.PENDING}, "hasn't been paid"),
    ],
)
def test_a_pass_that_cannot_pay_is_refused_with_its_reason_and_nothing_is_booked(
    organiser, booker, event, change, message
):
    pass_ = PassFactory(organiser=organiser, user=booker, **change)
    before = Pass.objects.get(pk=pass_.pk).uses_left

    with pytest.raises(PassError, match=message):
        book(event, booker, pass_=pass_)

    assert not Booking.objects.filter(event=event).exists()
    assert Pass.objects.get(pk=pass_.pk).uses_left == before


def test_a_pass_for_chosen_events_refuses_another_event(organiser, booker, event):
    chosen = EventFactory(organiser=organiser, title="Chosen class")
    pass_type = PassTypeFactory(organiser=organiser, scope=PassType.Scope.CHOSEN_EVENTS)
    pass_type.events.set([chosen])
    pass_ = PassFactory(pass_type=pass_type, user=booker)

    with pytest.raises(PassError, match=f"can't be used for “{event.title}”"):
        book(event, booker, pass_=pass_)

    TicketTypeFactory(event=chosen, price=900)
    assert book(chosen, booker, pass_=pass_).payment_method == Booking.PaymentMethod.PASS


def test_an_event_after_the_pass_ends_is_refused(organiser, booker):
    late = EventFactory(organiser=organiser, starts_at=timezone.now() + timedelta(days=90))
    TicketTypeFactory(event=late, price=1000)
    pass_ = PassFactory(organiser=organiser, user=booker, valid_until=timezone.now() + timedelta(days=30))

    with pytest.raises(PassError, match="outside those dates"):
        book(late, booker, pass_=pass_)


def test_another_organisers_pass_is_refused(organiser, other_organiser, booker, event):
    theirs = PassFactory(organiser=other_organiser, user=booker)

    with pytest.raises(PassError, match="This pass is for Elsewhere"):
        book(event, booker, pass_=theirs)
    assert Pass.objects.get(pk=theirs.pk).uses_left == theirs.uses_left


def test_someone_elses_pass_is_refused(organiser, booker, other_booker, event):
    pass_ = PassFactory(organiser=organiser, user=other_booker)

    with pytest.raises(PassError, match="belongs to another account"):
        book(event, booker, pass_=pass_)
    with pytest.raises(PassError, match="belongs to another account"):
        book(event, None, pass_=pass_)


def test_too_few_uses_for_the_tickets_is_refused(organiser, booker, event):
    pass_ = PassFactory(organiser=organiser, user=booker, uses_included=5, uses_left=1)

    with pytest.raises(PassError, match="1 use\\(s\\) left, but this booking needs 2"):
        book(event, booker, pass_=pass_, tickets=2)


def test_returning_a_use_gives_it_back_once(organiser, booker, event):
    pass_ = PassFactory(organiser=organiser, user=booker, uses_included=3)
    booking = book(event, booker, pass_=pass_, tickets=2)

    assert services.pass_return_use(booking=booking) == 2
    assert services.pass_return_use(booking=booking) == 0

    pass_.refresh_from_db()
    assert pass_.uses_left == 3
    assert PassRedemption.objects.get(booking=booking).returned_at is not None


def test_a_booking_not_paid_by_pass_returns_nothing(organiser, booker, event):
    booking = book(event, booker)
    assert services.pass_return_use(booking=booking) == 0


def test_stripe_checkout_activates_a_pass_once_and_expiry_cancels_an_unpaid_one(organiser, booker):
    pass_type = PassTypeFactory(organiser=organiser)
    pending = PassFactory(pass_type=pass_type, user=booker, status=Pass.Status.PENDING)
    session = {
        "id": "cs_1",
        "mode": "payment",
        "payment_status": "paid",
        "metadata": {"pass": str(pending.code)},
    }

    services.pass_checkout_event("checkout.session.completed", session)
    services.pass_checkout_event("checkout.session.completed", session)

    pending.refresh_from_db()
    assert pending.status == Pass.Status.ACTIVE and pending.payment_reference == "cs_1"

    abandoned = PassFactory(pass_type=pass_type, user=booker, status=Pass.Status.PENDING)
    services.pass_checkout_event(
        "checkout.session.expired", {"id": "cs_2", "metadata": {"pass": str(abandoned.code)}}
    )
    abandoned.refresh_from_db()
    assert abandoned.status == Pass.Status.VOID


def test_a_stranger_with_no_account_can_still_pay_by_card(organiser, event):
    user = UserFactory()
    booking = book(event, user)
    assert booking.status == Booking.Status.PENDING and booking.total == 1200
