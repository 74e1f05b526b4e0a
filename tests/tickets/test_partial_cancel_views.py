"""The Cancel ticket dialog with more than one ticket: choose which go, see each one's share and
the quote for the choice, confirm; without JavaScript and with htmx."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bookings.models import Booking, Refund, TicketCancellation
from tests.factories import AttendeeFactory, EventFactory, TicketTypeFactory
from tests.helpers import in_days, paid_booking, rules

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(organiser, booker):
    """Bea (adult, £20) and Sam (child, £10) on one £30 card booking; a £1.50 fee per cancellation."""
    event = EventFactory(organiser=organiser, title="Family yoga", starts_at=in_days(5))
    rules(event, cancellation_fee=150)
    adult = TicketTypeFactory(event=event, name="Adult", price=2000)
    child = TicketTypeFactory(event=event, name="Child", price=1000)
    booking = paid_booking(adult, total=3000, user=booker, booker_email=booker.email)
    booking.attendees.update(name="Bea")
    AttendeeFactory(booking=booking, ticket_type=child, name="Sam", is_child=True)
    return booking


def url(booking):
    return reverse("bookings:booking_cancel", args=[booking.reference])


def ids(booking):
    return list(booking.attendees.order_by("pk").values_list("pk", flat=True))


def test_the_dialog_offers_each_ticket_ticked_with_what_it_paid(client_as_booker, family):
    content = client_as_booker.get(url(family)).content.decode()

    bea, sam = ids(family)
    assert "Which tickets do you want to cancel?" in content
    assert f'id="cancel-ticket-{bea}" name="ticket" value="{bea}" checked' in content
    assert f'id="cancel-ticket-{sam}" name="ticket" value="{sam}" checked' in content
    assert "paid £20.00" in content and "paid £10.00" in content
    assert "You will get <strong>£28.50</strong> back" in content  # all ticked: the whole booking
    assert "Cancel booking</button>" in content


def test_ticking_one_ticket_quotes_it_alone_and_the_fee_once(client_as_booker, family):
    _, sam = ids(family)
    content = client_as_booker.get(url(family), {"choosing": "1", "ticket": [sam]}).content.decode()

    assert "You will get <strong>£8.50</strong> back" in content
    assert "cancellation fee of £1.50, once for this cancellation" in content
    assert f'name="quoted" value="{sam}"' in content
    assert "Cancel 1 ticket</button>" in content


def test_ticking_none_offers_no_confirm(client_as_booker, family):
    content = client_as_booker.get(url(family), {"choosing": "1"}).content.decode()
    assert "Choose at least one ticket to cancel." in content
    assert 'class="button--danger"' not in content


def test_cancelling_one_ticket_without_javascript_redirects_with_a_message_and_emails(
    client_as_booker, family, mailoutbox, django_capture_on_commit_callbacks
):
    _, sam = ids(family)
    data = {"choosing": "1", "ticket": [sam], "quoted": str(sam), "idempotency_key": "k"}
    with django_capture_on_commit_callbacks(execute=True):
        first = client_as_booker.post(url(family), data)
    with django_capture_on_commit_callbacks(execute=True):
        again = client_as_booker.post(url(family), data)  # a double click

    assert first.status_code == 302 and again.status_code == 302
    assert first["Location"] == reverse("bookings:booking_detail", args=[family.reference])
    assert TicketCancellation.objects.count() == 1
    assert [m.subject for m in mailoutbox] == [f"Ticket cancelled: Family yoga ({family.reference})"]
    page = client_as_booker.get(first["Location"]).content.decode()
    assert f"1 ticket of booking {family.reference} is cancelled." in page
    assert "Cancelled tickets" in page and "Sam" in page


def test_a_post_whose_ticks_differ_from_the_quote_quotes_again_and_cancels_nothing(client_as_booker, family):
    bea, sam = ids(family)
    response = client_as_booker.post(
        url(family), {"choosing": "1", "ticket": [bea], "quoted": str(sam), "idempotency_key": "k"}
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert "You changed which tickets to cancel" in content
    assert "You will get <strong>£18.50</strong> back" in content
    assert not TicketCancellation.objects.exists()


def test_cancelling_one_ticket_with_htmx_refreshes_the_page(client_as_booker, family, htmx):
    _, sam = ids(family)
    response = client_as_booker.post(
        url(family),
        {"choosing": "1", "ticket": [sam], "quoted": str(sam), "idempotency_key": "k"},
        HTTP_HX_CURRENT_URL="http://testserver/portal/events/",
        **htmx,
    )
    assert response.status_code == 200 and response["HX-Refresh"] == "true"
    family.refresh_from_db()
    assert family.attendees.count() == 1 and family.status == Booking.Status.CONFIRMED


def test_an_htmx_requote_is_the_dialog_alone(client_as_booker, family, htmx):
    _, sam = ids(family)
    response = client_as_booker.get(url(family), {"choosing": "1", "ticket": [sam]}, **htmx)
    content = response.content.decode()
    assert "<html" not in content and "<dialog" in content
    assert "£8.50" in content


def test_ticking_every_ticket_cancels_the_booking(
    client_as_booker, family, django_capture_on_commit_callbacks
):
    both = ids(family)
    quoted = ",".join(str(pk) for pk in sorted(both))
    with django_capture_on_commit_callbacks(execute=True):
        client_as_booker.post(url(family), {"choosing": "1", "ticket": both, "quoted": quoted})
    family.refresh_from_db()
    assert family.is_cancelled
    assert Refund.objects.get(booking=family).amount == 2850


def test_a_ticket_of_someone_elses_booking_cannot_be_slipped_in(client_as_booker, family, other_booker):
    stranger = AttendeeFactory(booking__user=other_booker, booking__status=Booking.Status.CONFIRMED)
    _, sam = ids(family)
    client_as_booker.post(
        url(family),
        {"choosing": "1", "ticket": [sam, stranger.pk], "quoted": str(sam), "idempotency_key": "k"},
    )
    stranger.refresh_from_db()  # still there, still theirs
    assert stranger.booking.user == other_booker


def test_the_options_page_and_cancelled_tab_show_what_was_cancelled_when(
    client_as_booker, family, django_capture_on_commit_callbacks
):
    _, sam = ids(family)
    with django_capture_on_commit_callbacks(execute=True):
        client_as_booker.post(url(family), {"choosing": "1", "ticket": [sam], "quoted": str(sam)})
    when = TicketCancellation.objects.get().created_at

    detail = client_as_booker.get(
        reverse("bookings:booking_detail", args=[family.reference])
    ).content.decode()
    assert "Cancelled tickets" in detail
    assert "Sam</td>" in detail or "Sam <span" in detail
    assert when.strftime("%-d %b %Y") in detail
    tab = client_as_booker.get(reverse("bookings:event_list") + "?tab=cancelled").content.decode()
    assert family.reference in tab
    assert "Sam" in tab
