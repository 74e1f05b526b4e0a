"""Tickets a member's included bookings paid for are recorded per ticket, so a booking paid
(partly) with them can be cancelled, moved or given in part: exactly the cancelled tickets'
included bookings go back; moved tickets take theirs along; nothing is given back twice."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.urls import reverse

from bookings import selectors, services
from bookings.exceptions import BookingError
from bookings.models import Attendee, Booking, BookingRules, Event, Refund
from memberships.models import Membership, MembershipBookingUse
from tests.factories import AttendeeFactory, EventFactory, TicketTypeFactory
from tests.helpers import in_days, paid_booking, rules
from tests.memberships.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(organiser, booker):
    """Bea's membership: 2 included bookings a month, no discount."""
    return MembershipFactory(
        organiser=organiser, user=booker, plan__included_bookings=2, plan__discount_percent=0
    )


@pytest.fixture
def family(organiser, booker, member):
    """Bea books two adults (£20) and a child (£10) with her 2 included bookings: they pay for
    the adults, the child is paid by card."""
    event = EventFactory(organiser=organiser, title="Family yoga", starts_at=in_days(5), capacity=10)
    rules(event, transfer_scope=BookingRules.TransferScope.ANY_EVENT, gift_cutoff_hours=24)
    adult = TicketTypeFactory(event=event, name="Adult", price=2000)
    child = TicketTypeFactory(event=event, name="Child", price=1000)
    booking = book(event, booker, [(child, "Kim"), (adult, "Bea"), (adult, "Al")])
    Booking.objects.filter(pk=booking.pk).update(
        status=Booking.Status.CONFIRMED, payment_method=Booking.PaymentMethod.CARD, payment_reference="pi_x"
    )
    booking.refresh_from_db()
    return booking


def book(event, booker, tickets, key="family"):
    return services.booking_create(
        request=services.BookingRequest(
            event=event,
            booker=services.Booker(name="Bea Booker", email=booker.email, user=booker),
            tickets=[services.TicketRequest(ticket_type=t, attendee_name=name) for t, name in tickets],
            idempotency_key=key,
        )
    )


def left(member) -> int:
    return Membership.objects.get(pk=member.pk).included_bookings_left


def ticket(booking, name) -> Attendee:
    return Attendee.objects.get(booking=booking, name=name)


def spent_on(booking) -> int:
    use = MembershipBookingUse.objects.filter(booking_reference=booking.reference, returned_at__isnull=True)
    return sum(u.tickets for u in use)


def test_the_booking_records_which_tickets_the_included_bookings_paid_dearest_first(family, member):
    assert {a.name: a.included for a in family.attendees.all()} == {"Kim": False, "Bea": True, "Al": True}
    assert (family.total, family.included_amount) == (1000, 4000)
    assert family.included_reason.startswith(f"{member.plan.name}: 2 included bookings")
    assert spent_on(family) == 2 and left(member) == 0


def test_cancelling_an_included_ticket_gives_back_exactly_its_included_booking(family, member, after_commit):
    quote = selectors.cancel_quote(booking=family, ticket_ids=[ticket(family, "Al").pk])
    assert (quote.included_back, quote.card_share, quote.refund.amount) == (1, 0, 0)

    after_commit(services.booking_cancel, booking=family, ticket_ids=[ticket(family, "Al").pk])

    family.refresh_from_db()
    assert sorted(a.name for a in family.attendees.all()) == ["Bea", "Kim"]
    assert (family.total, family.included_amount, family.status) == (1000, 2000, Booking.Status.CONFIRMED)
    assert family.included_reason == f"{member.plan.name}: 1 included booking"  # the order details
    assert spent_on(family) == 1 and left(member) == 1
    assert not Refund.objects.filter(booking=family, amount__gt=0).exists()


def test_cancelling_the_card_paid_ticket_refunds_it_and_keeps_the_included_bookings_spent(
    family, member, after_commit
):
    quote = selectors.cancel_quote(booking=family, ticket_ids=[ticket(family, "Kim").pk])
    assert (quote.included_back, quote.card_share) == (0, 1000)

    after_commit(services.booking_cancel, booking=family, ticket_ids=[ticket(family, "Kim").pk])

    family.refresh_from_db()
    assert (family.total, family.included_amount) == (0, 4000)
    assert Refund.objects.get(booking=family).amount == 1000
    assert spent_on(family) == 2 and left(member) == 0


def test_cancelling_the_rest_later_gives_back_only_what_is_still_spent(family, member, after_commit):
    al = ticket(family, "Al").pk
    after_commit(services.booking_cancel, booking=family, ticket_ids=[al], idempotency_key="a")
    after_commit(services.booking_cancel, booking=family, ticket_ids=[al], idempotency_key="a")
    assert left(member) == 1  # the same cancellation again gives nothing more back

    after_commit(services.booking_cancel, booking=family)  # the rest, whole

    family.refresh_from_db()
    assert family.status == Booking.Status.CANCELLED
    assert left(member) == 2 and spent_on(family) == 0


def test_under_rules_that_refund_nothing_the_cancelled_tickets_included_booking_stays_spent(
    family, member, after_commit
):
    BookingRules.objects.filter(event=family.event).update(refund_method=BookingRules.RefundMethod.NONE)

    after_commit(services.booking_cancel, booking=family, ticket_ids=[ticket(family, "Al").pk])

    family.refresh_from_db()
    assert left(member) == 0  # kept spent, as for a whole cancel under these rules
    assert spent_on(family) == 1 and family.included_amount == 2000
    # Rules that refund again: cancelling the rest gives back Bea's only, never Al's.
    BookingRules.objects.filter(event=family.event).update(refund_method=BookingRules.RefundMethod.ORIGINAL)
    after_commit(services.booking_cancel, booking=family)
    assert left(member) == 1


def test_moving_an_included_ticket_takes_its_included_booking_along(family, member, after_commit, organiser):
    later = EventFactory(organiser=organiser, title="Evening", starts_at=in_days(9), capacity=10)
    rules(later)
    same_price = TicketTypeFactory(event=later, name="Adult", price=2000)

    transfer = after_commit(
        services.transfer_create,
        booking=family,
        ticket_type=same_price,
        idempotency_key="move",
        ticket_ids=[ticket(family, "Al").pk],
    )

    moved = Booking.objects.get(pk=transfer.booking_id)
    family.refresh_from_db()
    assert moved.pk != family.pk and moved.event == later
    assert (moved.total, moved.included_amount, [a.included for a in moved.attendees.all()]) == (
        0,
        2000,
        [True],
    )
    assert (family.total, family.included_amount) == (1000, 2000)
    assert moved.included_reason == family.included_reason == f"{member.plan.name}: 1 included booking"
    assert spent_on(moved) == 1 and spent_on(family) == 1 and left(member) == 0
    assert not Refund.objects.filter(amount__gt=0).exists()

    after_commit(services.booking_cancel, booking=moved)  # the moved ticket's, and only it, back
    assert left(member) == 1 and spent_on(family) == 1


def test_moving_the_card_paid_ticket_leaves_the_included_bookings_on_the_booking(
    family, member, after_commit, organiser
):
    later = EventFactory(organiser=organiser, title="Evening", starts_at=in_days(9), capacity=10)
    child = TicketTypeFactory(event=later, name="Child", price=1000)

    transfer = after_commit(
        services.transfer_create,
        booking=family,
        ticket_type=child,
        idempotency_key="move",
        ticket_ids=[ticket(family, "Kim").pk],
    )

    moved = Booking.objects.get(pk=transfer.booking_id)
    assert (moved.total, moved.included_amount, spent_on(moved)) == (1000, 0, 0)
    assert spent_on(family) == 2 and left(member) == 0


def test_a_ticket_the_included_bookings_paid_cannot_be_given_the_others_can(family):
    with pytest.raises(BookingError, match="paid with your membership's included bookings can't be given"):
        services.ticket_gift_create(
            booking=family,
            attendee_id=ticket(family, "Al").pk,
            recipient_name="Ola",
            recipient_email="ola@example.net",
            idempotency_key="g1",
        )
    gift = services.ticket_gift_create(
        booking=family,
        attendee_id=ticket(family, "Kim").pk,
        recipient_name="Ola",
        recipient_email="ola@example.net",
        idempotency_key="g2",
    )
    services.ticket_gift_accept(gift=gift)

    gift.refresh_from_db()
    family.refresh_from_db()
    assert (gift.new_booking.total, gift.new_booking.included_amount) == (1000, 0)
    assert (family.total, family.included_amount) == (0, 4000)
    assert spent_on(family) == 2


def test_the_give_dialog_offers_only_the_tickets_paid_for_and_says_why_when_none_are(
    family, client_as_booker, organiser
):
    url = reverse("bookings:booking_give", args=[family.reference])
    page = client_as_booker.get(url).content.decode()
    assert "Kim (Child)" in page and "Al (Adult)" not in page and "Bea (Adult)" not in page

    family.attendees.filter(name="Kim").delete()
    page = client_as_booker.get(url).content.decode()
    assert "Tickets paid with your membership&#x27;s included bookings can&#x27;t be given away" in page
    assert "Send the ticket" not in page


def test_existing_bookings_are_marked_dearest_first_by_the_data_migration(organiser):
    event = EventFactory(organiser=organiser)
    adult = TicketTypeFactory(event=event, price=2000)
    child = TicketTypeFactory(event=event, price=1000)
    booking = paid_booking(child, total=1000, included_amount=3000)
    AttendeeFactory(booking=booking, ticket_type=adult)
    AttendeeFactory(booking=booking, ticket_type=adult, price=0)  # free: never an included one
    untouched = paid_booking(adult, total=2000)

    migration = importlib.import_module("bookings.migrations.0019_attendee_included")
    migration.mark_included(django_apps, None)

    assert [(a.price, a.included) for a in booking.attendees.order_by("pk")] == [
        (1000, True),
        (2000, True),
        (0, False),
    ]
    assert not untouched.attendees.filter(included=True).exists()
    assert Event.objects.filter(pk=event.pk).exists()


def test_the_cancel_dialog_and_the_email_say_which_ticket_the_membership_paid_and_what_goes_back(
    family, client_as_booker, after_commit, mailoutbox
):
    url = reverse("bookings:booking_cancel", args=[family.reference])
    al = ticket(family, "Al").pk

    page = client_as_booker.get(url, {"choosing": "1", "ticket": [al]}).content.decode()

    assert "included in your membership" in page and "paid £10.00" in page  # Al's and Kim's
    assert "Your membership gets <strong>1 included booking</strong> back." in page
    assert "nothing to refund" not in page
    after_commit(services.booking_cancel, booking=family, ticket_ids=[al])
    (message,) = mailoutbox
    assert "Your membership gets 1 included booking back." in message.body
