"""A booker cancels some of a booking's tickets: each ticket's share back, the fee once, the
places to the waiting list, pass uses and voucher money back in proportion, the rest kept."""

from __future__ import annotations

import pytest

from bookings import selectors, services
from bookings.exceptions import ERRORS, BookingError
from bookings.models import (
    AccountCredit,
    Attendee,
    Booking,
    BookingRules,
    CancelledTicket,
    Refund,
    TicketCancellation,
    WaitingListEntry,
)
from tests.factories import AttendeeFactory, TicketTypeFactory, WaitingListEntryFactory
from tests.helpers import paid_booking, rules
from tests.passes.factories import PassFactory
from tests.vouchers.factories import VoucherFactory

pytestmark = pytest.mark.django_db


def family_booking(event, *, fee=0, **extra):
    """An adult (£20) and a child (£10) on one card booking of £30."""
    rules(event, cancellation_fee=fee)
    adult = TicketTypeFactory(event=event, name="Adult", price=2000)
    child = TicketTypeFactory(event=event, name="Child", price=1000)
    booking = paid_booking(adult, seats=1, total=3000, **extra)
    AttendeeFactory(booking=booking, ticket_type=child, name="Sam", is_child=True)
    return booking


def tickets_of(booking):
    return list(booking.attendees.order_by("pk"))


def test_cancelling_the_child_refunds_its_share_keeps_the_adult_and_frees_one_place(
    event, after_commit, mailoutbox
):
    booking = family_booking(event, fee=150)
    adult, child = tickets_of(booking)
    taken = type(event).objects.get(pk=event.pk).seats_taken

    after_commit(services.booking_cancel, booking=booking, ticket_ids=[child.pk], idempotency_key="k1")

    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert tickets_of(booking) == [adult]
    assert booking.total == 2000
    assert type(event).objects.get(pk=event.pk).seats_taken == taken - 1
    cancellation = TicketCancellation.objects.get(booking=booking)
    (gone,) = cancellation.tickets.all()
    assert (gone.name, gone.is_child, gone.price, gone.share) == ("Sam", True, 1000, 1000)
    refund = Refund.objects.get(cancellation=cancellation)
    assert (refund.reason, refund.method, refund.amount, refund.fee_kept) == (
        Refund.Reason.TICKETS_CANCELLED,
        "original",
        850,
        150,
    )
    assert refund.status == Refund.Status.SUCCEEDED
    (message,) = mailoutbox
    assert message.subject == f"Ticket cancelled: Pottery for beginners ({booking.reference})"
    assert "Sam (child), Child" in message.body
    assert "We have refunded £8.50 to your original payment." in message.body
    assert "kept a £1.50 cancellation fee" in message.body


def test_the_fee_is_kept_once_per_cancellation_however_many_tickets_go(event, after_commit):
    booking = family_booking(event, fee=300)
    extra = AttendeeFactory(booking=booking, ticket_type=booking.attendees.first().ticket_type, name="Kim")
    Booking.objects.filter(pk=booking.pk).update(total=5000)
    booking.refresh_from_db()
    _, child = tickets_of(booking)[:2]

    after_commit(services.booking_cancel, booking=booking, ticket_ids=[child.pk, extra.pk])

    refund = Refund.objects.get(reason=Refund.Reason.TICKETS_CANCELLED)
    assert (refund.amount, refund.fee_kept) == (2700, 300)  # £10 + £20, less one £3 fee


def test_the_quote_shows_each_tickets_share_and_is_what_the_cancellation_gives(event, after_commit):
    booking = family_booking(event, fee=100)
    adult, child = tickets_of(booking)

    quote = selectors.cancel_quote(booking=booking, ticket_ids=[adult.pk])
    assert not quote.whole
    assert [(t.name, t.share) for t in quote.tickets] == [(adult.name, 2000)]
    assert (quote.refund.amount, quote.refund.fee_kept) == (1900, 100)
    after_commit(services.booking_cancel, booking=booking, ticket_ids=[adult.pk])

    refund = Refund.objects.get(reason=Refund.Reason.TICKETS_CANCELLED)
    assert (refund.amount, refund.fee_kept, refund.method) == (1900, 100, quote.refund.method)


def test_shares_follow_the_discount_and_add_up_to_what_was_paid(event):
    booking = family_booking(event)
    Booking.objects.filter(pk=booking.pk).update(total=2701, discount=299)
    booking.refresh_from_db()
    held = tickets_of(booking)

    shares = selectors.ticket_shares(booking.total, held)

    assert sum(shares.values()) == 2701
    assert shares[held[0].pk] == 1800 and shares[held[1].pk] == 901


def test_cancelling_the_last_ticket_cancels_the_booking(event, after_commit, mailoutbox):
    booking = family_booking(event)
    adult, child = tickets_of(booking)
    after_commit(services.booking_cancel, booking=booking, ticket_ids=[child.pk], idempotency_key="one")

    after_commit(services.booking_cancel, booking=booking, ticket_ids=[adult.pk], idempotency_key="two")

    booking.refresh_from_db()
    assert (booking.status, booking.cancelled_by) == (Booking.Status.CANCELLED, Booking.CancelledBy.BOOKER)
    assert Attendee.objects.filter(booking=booking).count() == 1  # the last ticket stays as the booking's
    whole = Refund.objects.get(booking=booking, reason=Refund.Reason.BOOKER_CANCELLED)
    assert whole.amount == 2000
    assert sum(r.amount for r in Refund.objects.filter(booking=booking)) == 3000
    assert [m.subject.split(":")[0] for m in mailoutbox] == ["Ticket cancelled", "Cancelled"]


def test_choosing_every_ticket_is_the_whole_booking_cancelled(event, after_commit):
    booking = family_booking(event)

    after_commit(services.booking_cancel, booking=booking, ticket_ids=[a.pk for a in tickets_of(booking)])

    booking.refresh_from_db()
    assert booking.is_cancelled
    assert not TicketCancellation.objects.exists()
    assert Refund.objects.get(booking=booking).amount == 3000


def test_the_same_cancellation_posted_twice_changes_nothing_the_second_time(event, after_commit, mailoutbox):
    booking = family_booking(event)
    _, child = tickets_of(booking)

    after_commit(services.booking_cancel, booking=booking, ticket_ids=[child.pk], idempotency_key="twice")
    after_commit(services.booking_cancel, booking=booking, ticket_ids=[child.pk], idempotency_key="twice")

    assert TicketCancellation.objects.count() == 1
    assert Refund.objects.count() == 1
    assert len(mailoutbox) == 1


def test_a_ticket_already_cancelled_by_another_request_is_refused_and_nothing_changes(event, after_commit):
    booking = family_booking(event)
    _, child = tickets_of(booking)
    after_commit(services.booking_cancel, booking=booking, ticket_ids=[child.pk], idempotency_key="first")

    with pytest.raises(BookingError) as refused:
        after_commit(
            services.booking_cancel, booking=booking, ticket_ids=[child.pk], idempotency_key="second"
        )

    assert refused.value.message == ERRORS["tickets_changed"]
    assert TicketCancellation.objects.count() == 1
    booking.refresh_from_db()
    assert booking.total == 2000


def test_a_ticket_of_another_booking_is_refused(event, ticket, after_commit):
    booking = family_booking(event)
    stranger = paid_booking(ticket).attendees.get()

    with pytest.raises(BookingError):
        after_commit(services.booking_cancel, booking=booking, ticket_ids=[stranger.pk])

    assert Attendee.objects.filter(pk=stranger.pk).exists()
    assert booking.attendees.count() == 2


def test_choosing_no_ticket_is_refused(event, after_commit):
    booking = family_booking(event)
    with pytest.raises(BookingError, match="Choose at least one ticket."):
        after_commit(services.booking_cancel, booking=booking, ticket_ids=[])


def test_the_rules_refuse_a_partial_cancel_as_they_refuse_a_whole_one(event, after_commit):
    booking = family_booking(event)
    BookingRules.objects.filter(event=event).update(cancellations_allowed=False)
    _, child = tickets_of(booking)

    with pytest.raises(BookingError, match="doesn't allow cancellations"):
        after_commit(services.booking_cancel, booking=booking, ticket_ids=[child.pk])
    assert booking.attendees.count() == 2


def test_the_freed_place_is_offered_to_the_waiting_list(organiser, after_commit):
    from tests.factories import EventFactory

    event = EventFactory(organiser=organiser, capacity=2)
    booking = family_booking(event)
    entry = WaitingListEntryFactory(event=event, quantity=1)
    _, child = tickets_of(booking)

    after_commit(services.booking_cancel, booking=booking, ticket_ids=[child.pk])

    entry.refresh_from_db()
    assert entry.status == WaitingListEntry.Status.OFFERED


def test_no_refund_rules_give_nothing_back_for_some_tickets(event, after_commit, mailoutbox):
    booking = family_booking(event)
    BookingRules.objects.filter(event=event).update(refund_method=BookingRules.RefundMethod.NONE)
    _, child = tickets_of(booking)

    after_commit(services.booking_cancel, booking=booking, ticket_ids=[child.pk])

    refund = Refund.objects.get(reason=Refund.Reason.TICKETS_CANCELLED)
    assert (refund.method, refund.amount) == ("none", 0)
    assert "does not give refunds" in mailoutbox[0].body


@pytest.fixture
def standard(organiser):
    organiser.plan = "standard"
    organiser.save()
    return organiser


def book(event, booker, names, **payment):
    ticket = TicketTypeFactory(event=event, price=1500)
    return services.booking_create(
        request=services.BookingRequest(
            event=event,
            booker=services.Booker(name="Bea", email=booker.email, user=booker),
            tickets=[services.TicketRequest(ticket_type=ticket, attendee_name=n) for n in names],
            idempotency_key="pay",
            **payment,
        )
    )


def test_a_pass_gets_back_one_use_per_cancelled_ticket_and_the_rest_later(
    standard, event, booker, after_commit
):
    rules(event, cancellation_fee=300)
    pass_ = PassFactory(organiser=standard, user=booker, uses_included=5, uses_left=3)
    booking = book(event, booker, ["Bea", "Sam", "Kim"], pass_=pass_)
    held = tickets_of(booking)
    assert selectors.cancel_quote(booking=booking, ticket_ids=[held[0].pk]).pass_uses_back == 1

    after_commit(services.booking_cancel, booking=booking, ticket_ids=[held[0].pk])
    pass_.refresh_from_db()
    assert pass_.uses_left == 1
    assert TicketCancellation.objects.get().pass_uses_back == 1
    after_commit(services.booking_cancel, booking=booking)

    pass_.refresh_from_db()
    assert pass_.uses_left == 3  # every use back, none twice


def test_voucher_money_goes_back_in_proportion_less_the_fee_the_card_could_not_cover(
    standard, event, booker, after_commit
):
    rules(event, cancellation_fee=200)
    voucher = VoucherFactory(organiser=standard, value=5000, balance=5000)
    booking = book(event, booker, ["Bea", "Sam"], voucher_code=voucher.code)
    voucher.refresh_from_db()
    assert (voucher.balance, booking.total) == (2000, 0)
    _, sam = tickets_of(booking)

    after_commit(services.booking_cancel, booking=booking, ticket_ids=[sam.pk])

    voucher.refresh_from_db()
    assert voucher.balance == 3300  # £15 share, less the £2 fee
    assert booking.voucher_redemption.amount == 1500
    after_commit(services.booking_cancel, booking=booking)
    voucher.refresh_from_db()
    assert voucher.balance == 4600  # the last £15, less that cancellation's own fee
    assert not AccountCredit.objects.exists()


def test_a_cancelled_ticket_keeps_its_history_for_the_organiser(event, after_commit):
    booking = family_booking(event)
    _, child = tickets_of(booking)
    after_commit(services.booking_cancel, booking=booking, ticket_ids=[child.pk])

    ticket = CancelledTicket.objects.get()
    assert ticket.cancellation.booking == booking
    assert ticket.organiser_id == booking.organiser_id
