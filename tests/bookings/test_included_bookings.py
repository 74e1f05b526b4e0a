"""A member's included bookings pay for tickets at the plan's organiser: one ticket per booking
left this period, before the discount comes off the rest; the booker may pay instead; cancelling
within the rules gives them back; each period brings the full allowance again (#23)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bookings import services
from bookings.models import Booking, BookingRules
from bookings.receipts import booking_receipt_for
from memberships.models import Membership, MembershipBookingUse
from memberships.services import membership_benefit_for
from tests.factories import BookingRulesFactory, EventFactory, TicketTypeFactory
from tests.memberships.factories import MembershipFactory
from tests.passes.factories import PassFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def membership(organiser, booker):
    return MembershipFactory(
        organiser=organiser,
        user=booker,
        plan__name="Monthly Unlimited",
        plan__discount_percent=20,
        plan__included_bookings=2,
    )


@pytest.fixture
def ticket(organiser):
    return TicketTypeFactory(event=EventFactory(organiser=organiser, capacity=20), name="Drop-in", price=1200)


def book(ticket, booker, *, tickets=1, key="inc-1", **choices):
    return services.booking_create(
        request=services.BookingRequest(
            event=ticket.event,
            booker=services.Booker(name="Bea", email=booker.email, user=booker),
            tickets=[services.TicketRequest(ticket_type=ticket, attendee_name="Bea")] * tickets,
            idempotency_key=key,
            **choices,
        )
    )


def left(booker, organiser) -> int:
    return membership_benefit_for(user=booker, organiser=organiser).included_bookings_left


def test_an_included_booking_pays_for_the_ticket(membership, ticket, booker, organiser):
    booking = book(ticket, booker)

    assert (booking.total, booking.discount, booking.included_amount) == (0, 0, 1200)
    assert (booking.status, booking.payment_method) == ("confirmed", "membership")
    assert booking.included_reason == "Monthly Unlimited: 1 included booking (1 left this month)"
    assert left(booker, organiser) == 1
    use = MembershipBookingUse.objects.get()
    assert (use.booking_reference, use.tickets, use.membership) == (booking.reference, 1, membership)


def test_one_ticket_per_booking_left_and_the_discount_comes_off_the_rest(
    membership, ticket, booker, organiser
):
    booking = book(ticket, booker, tickets=3)

    # Two tickets included; the third is 12.00 less 20%.
    assert (booking.included_amount, booking.discount, booking.total) == (2400, 240, 960)
    assert booking.status == "pending"  # the card pays the 9.60
    assert left(booker, organiser) == 0
    assert MembershipBookingUse.objects.get().tickets == 2


def test_the_booker_can_pay_instead(membership, ticket, booker, organiser):
    booking = book(ticket, booker, use_included=False)

    assert (booking.included_amount, booking.total) == (0, 960)
    assert left(booker, organiser) == 2 and not MembershipBookingUse.objects.exists()


def test_a_pass_pays_every_ticket_and_the_included_bookings_are_kept(membership, ticket, booker, organiser):
    booking = book(ticket, booker, pass_=PassFactory(organiser=organiser, user=booker))

    assert (booking.payment_method, booking.included_amount) == ("pass", 0)
    assert left(booker, organiser) == 2


def test_free_tickets_use_no_included_booking(membership, booker, organiser):
    free = TicketTypeFactory(event=EventFactory(organiser=organiser), price=0)

    book(free, booker)

    assert left(booker, organiser) == 2


def test_cancelling_within_the_rules_gives_the_included_booking_back_once(
    membership, ticket, booker, organiser, django_capture_on_commit_callbacks
):
    BookingRulesFactory(organiser=organiser, event=None)
    booking = book(ticket, booker)
    assert left(booker, organiser) == 1

    with django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel(booking=booking)
        services.booking_cancel(booking=booking)

    assert left(booker, organiser) == 2
    assert MembershipBookingUse.objects.get().returned_at is not None


def test_rules_that_give_nothing_back_keep_the_included_booking_spent(membership, ticket, booker, organiser):
    BookingRulesFactory(organiser=organiser, event=None, refund_method=BookingRules.RefundMethod.NONE)
    booking = book(ticket, booker)

    services.booking_cancel(booking=booking)

    assert left(booker, organiser) == 1


def test_the_allowance_resets_each_period(membership, ticket, booker, organiser):
    book(ticket, booker, tickets=2)
    assert book(ticket, booker, key="inc-2").included_amount == 0

    membership.current_period_start = membership.current_period_end
    membership.current_period_end = membership.current_period_start + (
        membership.current_period_end - membership.started_at
    )
    membership.save()

    assert left(booker, organiser) == 2
    assert book(ticket, booker, key="inc-3").included_amount == 1200


@pytest.mark.parametrize("status", [Membership.Status.PAUSED, Membership.Status.CANCELED])
def test_no_included_bookings_from_a_membership_without_benefits(membership, ticket, booker, status):
    membership.status = status
    membership.save()

    assert book(ticket, booker).included_amount == 0


def test_no_included_bookings_at_another_organiser(membership, booker, other_organiser):
    elsewhere = TicketTypeFactory(event=EventFactory(organiser=other_organiser), price=1200)

    assert book(elsewhere, booker).included_amount == 0


def test_an_expired_checkout_gives_the_included_booking_back(membership, ticket, booker, organiser):
    booking = book(ticket, booker, tickets=3)
    assert booking.status == Booking.Status.PENDING

    services.booking_expire(booking=booking)

    assert left(booker, organiser) == 2


# What the booker sees ------------------------------------------------------------------------------


def button(html: str) -> str:
    start = html.index('class="pay-button"')
    return html[html.index(">", start) + 1 : html.index("</button>", start)].strip()


def test_the_booking_form_offers_them_and_the_pay_button_follows(membership, ticket, client_as_booker, htmx):
    url = reverse("event_book", args=[ticket.event.organiser.slug, ticket.event.code])

    html = client_as_booker.get(url, {f"qty_{ticket.pk}": 1}).content.decode()
    assert "Use my included bookings" in html and "2 left this month" in html
    assert button(html) == "Book now: nothing to pay"
    assert "Monthly Unlimited: 1 included booking (1 left this month)" in html

    form = {f"qty_{ticket.pk}": 1, "attendee_0_name": "Bea", "quote": "1"}  # use_included unticked
    assert button(client_as_booker.post(url, form, **htmx).content.decode()) == "Pay £9.60 and book"


def test_order_details_email_and_membership_card_say_what_was_used_and_what_is_left(
    membership, ticket, booker, client_as_booker, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booking = book(ticket, booker)
    said = "Monthly Unlimited: 1 included booking (1 left this month)"

    detail = client_as_booker.get(
        reverse("bookings:booking_detail", args=[booking.reference])
    ).content.decode()
    assert said in detail and "-£12.00" in detail
    (message,) = mailoutbox
    assert said in message.body and said in message.alternatives[0][0]
    card = client_as_booker.get(reverse("memberships:membership_list")).content.decode()
    assert "1 used, 1 of 2 left this month" in card


def move(booking, ticket_type, key="move-1"):
    return services.transfer_create(booking=booking, ticket_type=ticket_type, idempotency_key=key)


def test_a_move_keeps_the_included_bookings_on_the_new_ticket(membership, ticket, booker, organiser):
    BookingRulesFactory(organiser=organiser, event=None)
    booking = book(ticket, booker)
    dearer = TicketTypeFactory(event=EventFactory(organiser=organiser), name="Workshop", price=1500)

    transfer = move(booking, dearer)

    booking.refresh_from_db()
    assert transfer.status == "completed" and transfer.new_total == 0
    assert (booking.event_id, booking.total, booking.included_amount) == (dearer.event_id, 0, 1500)
    assert booking.included_reason == "Monthly Unlimited: 1 included booking (1 left this month)"
    assert left(booker, organiser) == 1  # still one spent, on this booking


def test_a_move_to_a_free_ticket_gives_the_included_bookings_back(membership, ticket, booker, organiser):
    BookingRulesFactory(organiser=organiser, event=None)
    booking = book(ticket, booker)
    free = TicketTypeFactory(event=EventFactory(organiser=organiser), name="Open day", price=0)

    move(booking, free)

    booking.refresh_from_db()
    assert (booking.total, booking.included_amount, booking.included_reason) == (0, 0, "")
    assert left(booker, organiser) == 2


def test_the_cancel_dialog_says_the_included_booking_goes_back(membership, ticket, booker, client_as_booker):
    BookingRulesFactory(organiser=ticket.event.organiser, event=None)
    booking = book(ticket, booker)

    html = client_as_booker.get(reverse("bookings:booking_cancel", args=[booking.reference])).content.decode()

    assert "Your membership gets <strong>1 included booking</strong> back." in html
    assert "nothing to refund" not in html


def test_a_voucher_pays_what_is_left_after_the_included_bookings_and_the_discount(
    membership, ticket, booker, organiser
):
    from tests.vouchers.factories import VoucherFactory

    voucher = VoucherFactory(organiser=organiser, value=500)

    booking = book(ticket, booker, tickets=3, voucher_code=voucher.code)

    # 36.00: two tickets included, 20% off the third (9.60), the voucher pays 5.00 of that.
    assert (booking.included_amount, booking.discount, booking.total) == (2400, 240, 460)


def test_when_the_last_included_booking_went_meanwhile_nothing_is_charged_and_the_page_says_so(
    membership, ticket, booker, organiser, client_as_booker
):
    url = reverse("event_book", args=[ticket.event.organiser.slug, ticket.event.code])
    page = client_as_booker.get(url, {f"qty_{ticket.pk}": 1})
    assert button(page.content.decode()) == "Book now: nothing to pay"
    book(ticket, booker, tickets=2, key="other-tab")  # both used up in another tab

    response = client_as_booker.post(
        url,
        {
            f"qty_{ticket.pk}": 1,
            "booker_name": "Bea",
            "booker_email": booker.email,
            "idempotency_key": page.context["details"]["idempotency_key"].value(),
            "attendee_0_name": "Bea",
            "use_included": "on",
            "pay_amount": 0,
        },
    )

    html = response.content.decode()
    assert response.status_code == 200 and Booking.objects.count() == 1
    assert "The amount to pay is now £9.60" in html and button(html) == "Pay £9.60 and book"


def test_an_organiser_cancelling_the_event_gives_the_included_bookings_back(
    membership, ticket, booker, organiser, django_capture_on_commit_callbacks
):
    BookingRulesFactory(organiser=organiser, event=None, refund_method=BookingRules.RefundMethod.NONE)
    book(ticket, booker, tickets=2)
    assert left(booker, organiser) == 0

    with django_capture_on_commit_callbacks(execute=True):
        services.event_cancel(event=ticket.event)

    assert left(booker, organiser) == 2  # whatever the rules say, the organiser gives it all back


def test_the_move_review_says_the_included_bookings_pay_the_new_ticket(
    membership, ticket, booker, organiser, client_as_booker
):
    BookingRulesFactory(organiser=organiser, event=None)
    booking = book(ticket, booker)
    dearer = TicketTypeFactory(event=EventFactory(organiser=organiser), name="Workshop", price=1500)

    html = client_as_booker.get(
        reverse("bookings:booking_transfer", args=[booking.reference]),
        {"event": dearer.event.code, "ticket": dearer.pk},
    ).content.decode()

    assert "paid by Monthly Unlimited: 1 included booking" in html
    assert "Confirm transfer" in html


def test_the_receipt_takes_the_included_bookings_off_so_its_lines_add_up_to_the_total(
    membership, ticket, booker, organiser
):
    booking = book(ticket, booker, tickets=3)
    booking.status = Booking.Status.CONFIRMED
    booking.save(update_fields=["status"])

    receipt = booking_receipt_for(booking)

    charged = sum(line.amount for line in receipt.lines if not line.deduction)
    taken_off = sum(line.amount for line in receipt.lines if line.deduction)
    assert charged - taken_off == receipt.total == 960
    assert [line.amount for line in receipt.lines if line.deduction] == [2400, 240]
