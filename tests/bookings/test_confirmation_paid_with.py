"""The confirmation email names what paid for the booking: the pass (and its uses left) or the
voucher (by the end of its code, and what it paid), in the text and the HTML part, instead of a
bare "Total: £0.00" (#20 defect 3)."""

from __future__ import annotations

import pytest
from django.db import connection

from bookings import emails, services
from tests.factories import EventFactory, TicketTypeFactory
from tests.passes.factories import PassFactory
from tests.vouchers.factories import VoucherFactory

pytestmark = pytest.mark.django_db


def book(ticket, *, user=None, tickets=1, **payment):
    return services.booking_create(
        request=services.BookingRequest(
            event=ticket.event,
            booker=services.Booker(name="Bea", email=user.email if user else "bea@example.com", user=user),
            tickets=[services.TicketRequest(ticket_type=ticket, attendee_name="Bea")] * tickets,
            idempotency_key="paid-with",
            **payment,
        )
    )


@pytest.fixture
def ticket(organiser):
    return TicketTypeFactory(event=EventFactory(organiser=organiser), name="Drop-in", price=1200)


def both_parts(mailoutbox) -> tuple[str, str]:
    (message,) = mailoutbox
    return message.body, message.alternatives[0][0]


def test_a_pass_paid_booking_names_the_pass_and_its_uses_left(ticket, booker, organiser, mailoutbox):
    pass_ = PassFactory(
        organiser=organiser, user=booker, pass_type__name="5-class pass", uses_included=5, uses_left=5
    )
    booking = book(ticket, user=booker, tickets=2, pass_=pass_)

    emails.booking_send_confirmation(booking_id=booking.pk)

    for part in both_parts(mailoutbox):
        assert "Paid with your 5-class pass (3 uses left)" in part


def test_a_voucher_paid_booking_names_the_voucher_and_what_it_paid(ticket, organiser, mailoutbox):
    voucher = VoucherFactory(organiser=organiser, value=2000)
    booking = book(ticket, voucher_code=voucher.code)

    emails.booking_send_confirmation(booking_id=booking.pk)

    text, html = both_parts(mailoutbox)
    for part in (text, html):
        assert f"Gift voucher ending {voucher.code[-4:]}: -£12.00 (£8.00 left on it)" in part
        assert voucher.code not in part  # the code is money: only its end is shown


def test_a_card_paid_booking_says_nothing_of_passes_or_vouchers(ticket, mailoutbox):
    booking = book(ticket)
    booking.status = booking.Status.CONFIRMED
    booking.save()

    emails.booking_send_confirmation(booking_id=booking.pk)

    text, html = both_parts(mailoutbox)
    assert "Paid with" not in text + html and "voucher" not in (text + html).lower()


def test_naming_the_pass_costs_no_extra_query(
    ticket, booker, organiser, mailoutbox, django_assert_num_queries
):
    booking = book(ticket, user=booker, pass_=PassFactory(organiser=organiser, user=booker))
    advisory_lock = 1 if connection.vendor == "postgresql" else 0

    with django_assert_num_queries(2 + advisory_lock + 2):
        emails.booking_send_confirmation(booking_id=booking.pk)
