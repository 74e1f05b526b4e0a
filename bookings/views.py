from __future__ import annotations

import functools
import hashlib
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect, HttpResponseClientRefresh

from accounts import services as accounts
from bookings import form_keys, forms, links, payment_fields, rules, selectors, services
from bookings.exceptions import ERRORS, BookingError, FormAlreadyUsed, PriceChanged
from bookings.models import TicketType
from bookings.tasks import booking_send_new_links as booking_send_new_links_task
from portal import ratelimit
from portal.dates import reader_time_zone
from portal.exceptions import PortalError
from portal.htmx import render_page
from portal.middleware import speak_organisers_language
from portal.money import format_money
from vouchers import services as vouchers

BOOKED_HERE = "bookings.booked_as_guest_here"
TABS = [
    ("upcoming", gettext_lazy("Upcoming")),
    ("cancelled", gettext_lazy("Cancelled")),
    ("past", gettext_lazy("Past")),
    ("waiting", gettext_lazy("Waiting list")),
]


def _cards_key(user, tab: str, organiser, freshness: list[str] | None) -> str | None:
    """The cache key of a page of booking cards (rendering 20 cards is most of the page's cost).
    It changes whenever anything a card shows changes: the language, which rows are on the page,
    and the updated_at of each booking, its event, its organiser, its attendees and their ticket
    types (`freshness`, from the selector; every writer sets updated_at, also in
    queryset.update()). Waiting-list cards show a live offer window, so that tab is not cached.
    Entries live ten minutes: a burst of visits is what they are for, and a deleted account's
    names must not linger in the cache."""
    if freshness is None:
        return None
    parts = [str(user.pk), tab, organiser.slug if organiser else "", get_language(), *freshness]
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()


@require_GET
@login_required
def event_list(request):
    tab = request.GET.get("tab", "upcoming")
    if tab not in dict(TABS):
        tab = "upcoming"
    organisers = list(selectors.organiser_list_for_booker(user=request.user))
    organiser = next((o for o in organisers if o.slug == request.GET.get("organiser")), None)
    shown = selectors.booking_tab_for_booker(
        user=request.user, tab=tab, organiser=organiser, page=request.GET.get("page", 1)
    )
    context = {
        "cards_key": _cards_key(request.user, tab, organiser, shown.freshness),
        "cards": shown.cards,
        "tabs": TABS,
        "tab": tab,
        "tab_label": dict(TABS)[tab],
        "organiser": organiser,
        "organisers": organisers,
        "page": shown.page,
        "section": "events",
        "own_zone": request.user.time_zone,  # a held place's "Book by" (else the organiser's)
    }
    return render_page(request, "bookings/event_list.html", "tab-panel", context)


@never_cache  # the form's key and the booker's details must not come back from a cache or Back
@require_http_methods(["GET", "POST"])
def event_book(request, org_slug: str, code):
    event = selectors.event_get_public(org_slug=org_slug, code=code)
    organiser = event.organiser
    speak_organisers_language(request, organiser)
    source = request.POST if request.method == "POST" else request.GET
    # A waiting-list offer's signed link: its holder may also book the places held for them.
    offer_token = source.get("offer", "")[:200]
    offer = links.waiting_list_offer_for_token(event=event, token=offer_token) if offer_token else None
    context = {
        "organiser": organiser,
        "event": event,
        "seats_left": selectors.seats_left(event, offer=offer, loaded=True),
        "offer": offer,
        "offer_token": offer_token if offer else "",
        "offer_gone": bool(offer_token) and offer is None,
        # A held place's end, in the zone of whoever reads the page (the organiser's for a guest).
        "hold_zone": reader_time_zone(request.user, organiser),
    }
    if event.is_cancelled or event.has_started:
        return render(request, "bookings/event_book.html", context)

    ticket_types = list(selectors.ticket_type_list_for_event(event=event))
    quantities = forms.TicketQuantitiesForm(
        source if any(k.startswith("qty_") for k in source) else None,
        # An offer to a place waiting for one ticket type starts with its places of that type.
        initial={f"qty_{offer.ticket_type_id}": offer.quantity} if offer and offer.ticket_type_id else None,
        event=event,
        ticket_types=ticket_types,
        seats_left=context["seats_left"],
    )
    context["quantities"] = quantities
    if not quantities.is_bound or not quantities.is_valid():
        context["waiting_form"] = forms.WaitingListForm(
            initial=_known_booker(request), ticket_types=ticket_types
        )
        if context["seats_left"] and not offer:
            context["sold_out"] = selectors.ticket_types_sold_out(event, ticket_types)
        return render(request, "bookings/event_book.html", context)

    details = forms.BookingDetailsForm(
        request.POST if request.method == "POST" else None,
        ticket_slots=quantities.ticket_slots(),
        form_fields=selectors.booking_form_field_list_for_event(event=event),
        user=request.user,
        idempotency_key=form_keys.issue(request.session) if request.method == "GET" else None,
    )
    context["details"] = details
    # "quote": the booker changed how they pay (htmx), or pressed Update the total (no JavaScript).
    asks_quote = request.method == "POST" and "quote" in request.POST
    voucher_judged = False
    if request.method == "POST" and not asks_quote and details.is_valid():
        try:
            placed = _place_booking(request, event, details, offer)
        except FormAlreadyUsed as error:
            details.replace_key(form_keys.issue(request.session))
            details.add_error(None, error.message)
        except PriceChanged as error:
            context["price_changed"] = error.message
        except vouchers.VoucherError as error:
            details.add_error(None, error.message)
            voucher_judged = True  # counted as a wrong code already
        except PortalError as error:
            details.add_error(None, error.message)
        else:
            return _after_booking(
                request, placed.booking, account_asked=bool(details.cleaned_data.get("create_account"))
            )
    context["quote"] = _quote(request, event, details, voucher_judged=voucher_judged)
    if asks_quote:
        details.hide_errors()
        if request.htmx:
            return render(request, "bookings/event_book.html#pay-summary", context)
    return render(request, "bookings/event_book.html", context)


def _quote(request, event, details, *, voucher_judged: bool = False):
    """The price the booker's choices make, for the pay button. A voucher code that can't pay
    counts as a wrong guess (as at booking), and past the limit codes are not looked up."""
    choices = details.payment_choices()
    code = choices["voucher_code"]
    guesses = {
        "subject": (details.data.get("booker_email") or "").lower()[:254],
        **vouchers.CODE_FAILURE_LIMITS,
    }
    look_up = bool(code) and not ratelimit.rate_limit_reached(request, "voucher-code", **guesses)
    quote = payment_fields.booking_quote(
        event=event,
        ticket_slots=details.ticket_slots,
        user=details.user,
        use_included=choices["use_included"],
        pass_=choices["pass_"],
        voucher_code=code,
        look_up_voucher=look_up,
    )
    if quote.voucher_refused and not voucher_judged:
        ratelimit.rate_limited(request, "voucher-code", period=3600, **guesses)
    return quote


def _known_booker(request) -> dict:
    user = request.user
    return {"name": user.name, "email": user.email} if user.is_authenticated else {}


def _voucher_failures_limited(place_booking):
    """Wrong voucher codes are limited per client and per (client, email), so a guesser is
    stopped (even with a right code, so they cannot tell) while a right code never counts."""

    @functools.wraps(place_booking)
    def place(request, event, details, *args, **kwargs):
        data = details.cleaned_data
        if not data.get("voucher_code"):
            return place_booking(request, event, details, *args, **kwargs)
        guesses = {"subject": data["booker_email"].lower(), **vouchers.CODE_FAILURE_LIMITS}
        if ratelimit.rate_limit_reached(request, "voucher-code", **guesses):
            raise vouchers.VoucherError(vouchers.ERRORS["too_many_attempts"])
        try:
            return place_booking(request, event, details, *args, **kwargs)
        except vouchers.VoucherError:
            ratelimit.rate_limited(request, "voucher-code", period=3600, **guesses)
            raise

    return place


@_voucher_failures_limited
def _place_booking(request, event, details, offer=None):
    data = details.cleaned_data
    voucher_code = data.get("voucher_code") or ""
    key = data["idempotency_key"]
    wants_account = bool(data.get("create_account"))
    if wants_account and ratelimit.rate_limited(request, "booking-account", period=3600, per_client=10):
        raise BookingError(ERRORS["too_many_accounts"])
    booking_request = services.BookingRequest(
        event=event,
        booker=services.Booker(
            name=data["booker_name"],
            email=data["booker_email"],
            phone=data["booker_phone"],
            user=details.user,
        ),
        tickets=details.tickets(),
        answers=details.answers(),
        idempotency_key=key,
        booked_from=reverse("organiser_page", args=[event.organiser.slug]),
        waiting_offer=offer,
        pass_=data.get("use_pass"),
        voucher_code=voucher_code,
        use_included=bool(data.get("use_included", True)),
        expected_to_pay=data.get("pay_amount"),
    )
    placed = services.booking_place(
        request=booking_request,
        new_account_password=data["password"] if wants_account else None,
        # Only the session the form was given to may land on a booking made with its key.
        may_replay=form_keys.issued_to(request.session, key),
    )
    if placed.new_account is not None:  # only the submit that made the account logs in to it
        login(request, placed.new_account, backend="django.contrib.auth.backends.ModelBackend")
        # This browser chose the password: confirming the address here keeps it.
        accounts.session_knows_password(request.session, placed.new_account)
        accounts.email_confirmation_send(request=request, user=placed.new_account)
    elif placed.account_exists and not placed.replayed:
        accounts.account_exists_tell_owner(request=request, email=placed.booking.booker_email)
    links.grant(request.session, placed.booking)
    if not request.user.is_authenticated:
        # So its page can tell a guest "you booked this here", not "you opened its link".
        request.session[BOOKED_HERE] = [*request.session.get(BOOKED_HERE, [])[-19:], placed.booking.reference]
    return placed


def _after_booking(request, booking, account_asked: bool = False):
    detail_url = reverse("bookings:booking_detail", args=[booking.reference])
    if booking.status == booking.Status.PENDING:
        checkout = services.booking_start_payment(
            booking=booking,
            success_url=settings.SITE_URL + detail_url,
            cancel_url=settings.SITE_URL + request.path,
        )
        if checkout.redirect_url:
            return redirect(checkout.redirect_url)
        if booking.is_cancelled:
            messages.error(
                request,
                _(
                    "Sorry, the organiser cancelled this event while you were paying. We have refunded your "
                    "payment in full and emailed %(email)s."
                )
                % {"email": booking.booker_email},
            )
            return redirect(detail_url)
    # The same words whether or not the address already had an account: only its inbox tells.
    message = _("You're booked! We've emailed your confirmation to %(email)s.") % {
        "email": booking.booker_email
    }
    if account_asked:
        message += " " + _("We've also emailed you about your account.")
    messages.success(request, message)
    return redirect(detail_url)


@require_http_methods(["GET", "POST"])
def waiting_list_join(request, org_slug: str, code):
    event = selectors.event_get_public(org_slug=org_slug, code=code)
    organiser = event.organiser
    speak_organisers_language(request, organiser)
    initial = _known_booker(request)
    if request.GET.get("ticket", "").isdigit():  # "Join the waiting list for <a sold-out ticket>"
        initial["ticket_type"] = int(request.GET["ticket"])
    form = forms.WaitingListForm(
        request.POST or None, initial=initial, ticket_types=selectors.ticket_type_list_for_event(event=event)
    )
    if request.method == "POST" and form.is_valid():
        try:
            entry = _waiting_list_join(request, event, form.cleaned_data)
        except PortalError as error:
            form.add_error(None, error.message)
        else:
            if entry is None:  # the same answer whether or not the address was on the list
                message = _("Check your email to confirm your place on the waiting list for %(event)s.") % {
                    "event": event.title
                }
            else:
                message = _(
                    "You're on the waiting list for %(event)s. We'll email you if a place comes up."
                ) % {"event": event.title}
            messages.success(request, message)
            return redirect("organiser_page", org_slug=organiser.slug)
    return render(
        request, "bookings/waiting_list_join.html", {"organiser": organiser, "event": event, "form": form}
    )


def _waiting_list_join(request, event, data: dict):
    """The entry when the booker proved the address (joined at once), None when the address's
    owner is emailed instead, or nothing was sent: a few emails an hour per address and event."""
    email = data["email"].lower()
    if ratelimit.rate_limited(
        request, "waiting-join", period=3600, subject=f"{event.pk}:{email}", per_client=20, per_subject=3
    ):
        return None
    user = request.user if request.user.is_authenticated else None
    return services.waiting_list_join(event=event, user=user, **data)


@require_http_methods(["GET", "POST"])
def waiting_confirm(request, token: str):
    """The emailed confirmation link: a page that asks, then a POST that confirms (a mail
    scanner fetching the link confirms nothing)."""
    entry = links.waiting_list_entry_for_confirm_token(token)
    if entry is None:
        return _private(render(request, "bookings/waiting_confirm_invalid.html", status=404))
    context = {"entry": entry, "event": entry.event, "organiser": entry.organiser}
    if request.method == "POST":
        try:
            services.waiting_list_confirm(entry=entry)
        except PortalError as error:
            context["error"] = error.message
        else:
            messages.success(
                request,
                _("You're on the waiting list for %(event)s. We'll email you if a place comes up.")
                % {"event": entry.event.title},
            )
            return redirect("organiser_page", org_slug=entry.organiser.slug)
    return _private(render(request, "bookings/waiting_confirm.html", context))


@require_http_methods(["GET", "POST"])
def refund_choice(request, token: str):
    """The cancellation email's offer of credit instead of the card refund: a page that asks,
    then a POST that chooses (a mail scanner fetching the link chooses nothing)."""
    refund = links.refund_for_choice_token(token)
    if refund is None:
        raise Http404("No such refund.")
    booking = refund.booking
    context = {"refund": refund, "booking": booking, "event": booking.event, "organiser": booking.organiser}
    if request.method == "POST":
        choice = request.POST.get("choice")
        if choice not in {"credit", "card"}:
            context["error"] = _("Choose credit or a refund to your payment.")
        else:
            try:
                services.refund_credit_choose(refund=refund, credit=choice == "credit")
            except PortalError as error:
                context["error"] = error.message
            else:
                if choice == "credit":
                    note = _("Done: %(amount)s is now credit with %(organiser)s. We've emailed you its code.")
                else:
                    note = _("Done: we're refunding %(amount)s to your original payment now.")
                messages.success(
                    request,
                    note
                    % {
                        "amount": format_money(refund.amount, refund.currency),
                        "organiser": booking.organiser.name,
                    },
                )
                return _private(redirect(request.path))
    refund.refresh_from_db()
    return _private(render(request, "bookings/refund_choice.html", context))


def _private(response):
    """Pages a signed link can open: never cached, never leak their address onwards."""
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    return response


@require_GET
def booking_detail(request, reference: str):
    booking = selectors.booking_get_for_viewer(request=request, reference=reference, with_history=True)
    return _private(
        render(
            request,
            "bookings/booking_detail.html",
            {
                "booking": booking,
                "event": booking.event,
                "organiser": booking.organiser,
                "section": "events" if request.user.is_authenticated else None,
                "booked_here": booking.reference in request.session.get(BOOKED_HERE, []),
            },
        )
    )


@never_cache
@require_GET
def booking_link(request, token: str):
    booking = links.booking_for_token(token)
    if booking is None:
        return _private(
            render(request, "bookings/link_invalid.html", {"form": forms.NewLinkForm()}, status=404)
        )
    links.grant(request.session, booking)
    if request.GET.get("to") == "receipt":  # the email's Receipt link: the same grant, then the receipt
        return _private(redirect("receipt_detail", kind="booking", ident=booking.reference))
    return _private(redirect("bookings:booking_detail", reference=booking.reference))


@require_http_methods(["GET", "POST"])
def booking_link_request(request):
    form = forms.NewLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].lower()
        # The same answer whether or not we know the address; only the email reveals anything.
        # Per email too: every request sends that mailbox its links (and revokes the earlier ones).
        if not ratelimit.rate_limited(
            request, "new-link", period=3600, subject=email, per_client=20, per_subject=5
        ):
            booking_send_new_links_task.delay(email)
        messages.success(
            request, _("If we have bookings for %(email)s, a new link is on its way.") % {"email": email}
        )
        return redirect("bookings:booking_link_request")
    return _private(render(request, "bookings/link_request.html", {"form": form}))


# Manage a booking: transfer, cancel; leave a waiting list ---------------------------------------
#
# Each step renders a dialog: into #modal for htmx, as a page of its own without JavaScript.
# Ownership is always `booking_get_for_viewer` (the booker's account, or one booking granted by
# a signed link) or the booker's own waiting-list place: anything else is a 404.


def _dialog(request, template: str, context: dict):
    context.setdefault("section", "events" if request.user.is_authenticated else None)
    # A refusal is a 409 for the page; htmx swaps only 2xx, so its dialog gets a 200.
    status = 409 if context.get("error") and not request.htmx else 200
    return _private(render_page(request, template, "dialog", context, status=status))


def _done(request, url: str):
    """After a change: htmx reloads the page it came from (lists change), plain POSTs redirect."""
    if request.htmx:
        return HttpResponseClientRefresh() if request.htmx.current_url else HttpResponseClientRedirect(url)
    return redirect(url)


@require_GET
def booking_manage(request, reference: str):
    booking = selectors.booking_get_for_viewer(request=request, reference=reference)
    booking_rules = rules.rules_for_event(event=booking.event)
    context = {
        "booking": booking,
        "event": booking.event,
        "organiser": booking.organiser,
        "transfer_blocked": rules.transfer_blocked_reason(booking=booking, rules=booking_rules),
        "cancel_blocked": rules.cancel_blocked_reason(booking=booking, rules=booking_rules),
        "details_blocked": rules.details_blocked_reason(booking=booking, rules=booking_rules),
        "gift_blocked": rules.gift_blocked_reason(booking=booking, rules=booking_rules),
    }
    return _dialog(request, "bookings/booking_manage.html", context)


@require_http_methods(["GET", "POST"])
def booking_cancel(request, reference: str):
    """Cancel the booking, or (with more than one ticket) the tickets the booker ticks: the
    dialog quotes the ticked ones; a POST whose ticks differ from what was quoted quotes again
    instead of cancelling, so nobody confirms an amount they did not see."""
    booking = selectors.booking_get_for_viewer(request=request, reference=reference)
    context = {"booking": booking, "event": booking.event, "organiser": booking.organiser}
    source = request.POST if request.method == "POST" else request.GET
    held = [attendee.pk for attendee in booking.attendees.all()]
    ticked = _ticked(source)
    if request.method == "POST" and ticked is not None and _ids_text(ticked) != source.get("quoted"):
        context["requoted"] = True
    elif request.method == "POST":
        try:
            services.booking_cancel(
                booking=booking, ticket_ids=ticked, idempotency_key=(source.get("idempotency_key") or "")[:64]
            )
        except PortalError as error:
            context["error"] = error.message
        else:
            messages.success(request, _cancelled_message(booking, ticked, held))
            return _done(request, reverse("bookings:booking_detail", args=[booking.reference]))
    booking_rules = rules.rules_for_event(event=booking.event)  # once: the reason and both quotes read it
    blocked = rules.cancel_blocked_reason(booking=booking, rules=booking_rules)
    context["blocked"] = context.get("error") or blocked
    chosen = held if ticked is None else [pk for pk in held if pk in ticked]
    context.update(chosen=chosen, quoted=_ids_text(chosen), idempotency_key=uuid.uuid4().hex)
    if not blocked and chosen:
        context["quote"] = selectors.cancel_quote(booking=booking, ticket_ids=chosen, rules=booking_rules)
    context["tickets"] = _with_shares(booking, chosen, booking_rules)
    return _dialog(request, "bookings/booking_cancel.html", context)


def _ticked(source, name: str = "ticket") -> list[int] | None:
    """The tickets ticked in a dialog, or None when the form offered no choice (a single ticket,
    or an older page): the whole booking. The service refuses any it doesn't hold."""
    if not source.get("choosing"):
        return None
    return sorted({int(value) for value in source.getlist(name) if value.isdigit() and len(value) < 10})


def _ids_text(ids: list[int]) -> str:
    return ",".join(str(pk) for pk in sorted(ids))


def _with_shares(booking, chosen: list[int], booking_rules) -> list:
    """The booking's tickets for the dialog, each with its share of the money and whether it is ticked."""
    quote = selectors.cancel_quote(booking=booking, rules=booking_rules)
    for attendee in quote.tickets:
        attendee.chosen = attendee.pk in chosen
    return list(quote.tickets)


def _cancelled_message(booking, chosen: list[int] | None, held: list[int]) -> str:
    if chosen is None or set(chosen) == set(held):
        return _("Booking %(reference)s is cancelled. We've emailed you the details.") % {
            "reference": booking.reference
        }
    return ngettext(
        "%(count)s ticket of booking %(reference)s is cancelled. We've emailed you the details.",
        "%(count)s tickets of booking %(reference)s are cancelled. We've emailed you the details.",
        len(chosen),
    ) % {"count": len(chosen), "reference": booking.reference}


@require_http_methods(["GET", "POST"])
def booking_details(request, reference: str):
    """Correct attendee names and booking-form answers, as the organiser's rules allow now."""
    booking = selectors.booking_get_for_viewer(request=request, reference=reference, with_history=True)
    context = {"booking": booking, "event": booking.event, "organiser": booking.organiser}
    context["blocked"] = rules.details_blocked_reason(
        booking=booking, rules=rules.rules_for_event(event=booking.event)
    )
    form = forms.DetailsEditForm(
        request.POST if request.method == "POST" and not context["blocked"] else None,
        attendees=booking.attendees.all(),
        form_fields=selectors.booking_form_field_list_for_event(event=booking.event),
        responses=booking.responses.all(),
    )
    context["form"] = form
    if request.method == "POST" and not context["blocked"] and form.is_valid():
        try:
            services.booking_edit_details(
                booking=booking,
                names=form.names(),
                answers=form.answers(),
                idempotency_key=form.cleaned_data["idempotency_key"],
                user=request.user if request.user.is_authenticated else None,
            )
        except PortalError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Your changes are saved. We've emailed you what changed."))
            return _done(request, reverse("bookings:booking_detail", args=[booking.reference]))
    return _dialog(request, "bookings/booking_details.html", context)


@require_http_methods(["GET", "POST"])
def booking_give(request, reference: str):
    """Give a ticket to someone else; the offers made so far, each with Withdraw until accepted."""
    booking = selectors.booking_get_for_viewer(request=request, reference=reference)
    blocked = rules.gift_blocked_reason(booking=booking, rules=rules.rules_for_event(event=booking.event))
    form = forms.GiftForm(
        request.POST if request.method == "POST" and not blocked else None,
        # Not the tickets a member's included bookings paid for: those are the member's own.
        attendees=[attendee for attendee in booking.attendees.all() if not attendee.included],
    )
    if request.method == "POST" and not blocked and form.is_valid():
        data = form.cleaned_data
        try:
            gift = services.ticket_gift_create(
                booking=booking,
                attendee_id=data["ticket"],
                recipient_name=data["recipient_name"].strip(),
                recipient_email=data["recipient_email"],
                idempotency_key=data["idempotency_key"],
            )
        except PortalError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("We've emailed %(name)s a link to accept the ticket. You can withdraw it until they do.")
                % {"name": gift.recipient_name},
            )
            return _done(request, reverse("bookings:booking_detail", args=[booking.reference]))
    context = {
        "booking": booking,
        "event": booking.event,
        "organiser": booking.organiser,
        "blocked": blocked,
        "form": form,
        "gifts": selectors.gift_list_for_booking(booking=booking),
    }
    return _dialog(request, "bookings/booking_give.html", context)


@require_http_methods(["GET", "POST"])
def gift_withdraw(request, reference: str, code):
    booking = selectors.booking_get_for_viewer(request=request, reference=reference)
    gift = get_object_or_404(booking.gifts.all(), code=code)
    context = {"booking": booking, "event": booking.event, "organiser": booking.organiser, "gift": gift}
    if request.method == "POST":
        try:
            services.ticket_gift_withdraw(gift=gift)
        except PortalError as error:
            context["error"] = error.message
        else:
            messages.success(
                request, _("You withdrew the ticket offered to %(name)s.") % {"name": gift.recipient_name}
            )
            return _done(request, reverse("bookings:booking_detail", args=[booking.reference]))
    return _dialog(request, "bookings/gift_withdraw.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def gift_accept(request, token: str):
    """The emailed accept link: a page that asks, then a POST that accepts (a mail scanner
    fetching the link accepts nothing). Accepting opens the new booking in this browser."""
    gift = links.gift_for_token(token)
    if gift is None:
        raise Http404("No such ticket.")
    booking = gift.booking
    speak_organisers_language(request, booking.organiser)
    context = {"gift": gift, "event": booking.event, "organiser": booking.organiser, "booking": booking}
    if request.method == "POST":
        try:
            gift = services.ticket_gift_accept(gift=gift)
        except PortalError as error:
            context["error"] = error.message
        else:
            links.grant(request.session, gift.new_booking)
            messages.success(
                request,
                _("The ticket is yours: booking %(reference)s. We've emailed your confirmation to %(email)s.")
                % {"reference": gift.new_booking.reference, "email": gift.new_booking.booker_email},
            )
            return _private(redirect("bookings:booking_detail", reference=gift.new_booking.reference))
    status = 409 if context.get("error") else 200
    return _private(render(request, "bookings/gift_accept.html", context, status=status))


@require_http_methods(["GET", "POST"])
def booking_transfer(request, reference: str):
    """Which tickets (a booking of more than one), then three steps on one URL: choose an event
    (this one too: another ticket type), choose a ticket, review; then POST to confirm."""
    booking = selectors.booking_get_for_viewer(request=request, reference=reference)
    booking_rules = rules.rules_for_event(event=booking.event)
    source = request.POST if request.method == "POST" else request.GET
    held = [attendee.pk for attendee in booking.attendees.all()]
    ticked = _ticked(source, name="move")
    moving = held if ticked is None else [pk for pk in held if pk in ticked]
    context = {
        "booking": booking,
        "event": booking.event,
        "organiser": booking.organiser,
        "blocked": rules.transfer_blocked_reason(booking=booking, rules=booking_rules),
        "step": 1,
        "moving_ids": moving,
        "moving_count": len(moving),
        "moving_query": "&choosing=1" + "".join(f"&move={pk}" for pk in moving) if ticked is not None else "",
    }
    if request.method == "POST" and source.get("from") != str(booking.event.code):
        context["blocked"] = ERRORS["booking_changed"]
        context["error"] = context["blocked"]
    if context["blocked"]:
        return _dialog(request, "bookings/booking_transfer.html", context)
    if len(held) > 1 and (ticked is None or not moving):
        context.update(step=0, tickets=booking.attendees.all(), none_chosen=ticked is not None)
        return _dialog(request, "bookings/booking_transfer.html", context)
    part = selectors.booking_part(booking=booking, ticket_ids=moving)
    context.update(part=part, partial=part is not booking)
    targets = rules.transfer_targets_for_event(event=booking.event, rules=booking_rules)
    target = targets.filter(code=source.get("event")).first() if _is_uuid(source.get("event")) else None
    if target is None:
        shown = list(targets[:50])
        left = selectors.seats_left_by_event(shown)
        context["targets"] = [(event, left[event.pk]) for event in shown]
        return _dialog(request, "bookings/booking_transfer.html", context)
    context.update(step=2, target=target)
    ticket_type = _ticket_type_of(target, source.get("ticket"))
    if ticket_type is None:
        context["ticket_types"] = selectors.transfer_ticket_choices(
            booking=part, target=target, rules=booking_rules
        )
        return _dialog(request, "bookings/booking_transfer.html", context)
    context.update(step=3, ticket_type=ticket_type)
    try:
        context["quote"] = selectors.transfer_quote(
            booking=part, ticket_type=ticket_type, rules=booking_rules
        )
        if request.method == "POST":
            return _transfer_confirm(
                request, booking, ticket_type, source, None if part is booking else moving
            )
    except PortalError as error:
        context["error"] = error.message
    context["idempotency_key"] = uuid.uuid4().hex
    return _dialog(request, "bookings/booking_transfer.html", context)


def _transfer_confirm(request, booking, ticket_type, source, ticket_ids):
    transfer = services.transfer_create(
        booking=booking,
        ticket_type=ticket_type,
        idempotency_key=(source.get("idempotency_key") or "")[:64] or uuid.uuid4().hex,
        from_event=booking.event,  # checked against the form's "from" above, and again under lock
        ticket_ids=ticket_ids,
    )
    moved = transfer.booking  # some tickets: the booking split off for them
    # The move rotates the booking's link secret when it completes, now or at Stripe's webhook;
    # this session, which asked for it, keeps the booking (`links.is_granted`).
    links.grant(request.session, moved, moving=transfer.pk)
    detail_url = reverse("bookings:booking_detail", args=[moved.reference])
    if transfer.status == transfer.Status.PENDING:
        checkout = services.transfer_start_payment(
            transfer=transfer,
            success_url=settings.SITE_URL + detail_url,
            cancel_url=settings.SITE_URL + request.path,
        )
        if checkout.redirect_url:
            if request.htmx:
                return HttpResponseClientRedirect(checkout.redirect_url)
            return redirect(checkout.redirect_url)
        transfer.refresh_from_db()
    if transfer.status == transfer.Status.FAILED:
        raise PortalError(transfer.failure)
    if moved.pk == booking.pk:
        messages.success(
            request,
            _("Done: your booking is now for %(event)s. We've emailed you the details.")
            % {"event": transfer.to_event.title},
        )
    else:
        messages.success(
            request,
            ngettext(
                "Done: %(count)s ticket moved to %(event)s as booking %(reference)s. We've emailed you the details.",
                "Done: %(count)s tickets moved to %(event)s as booking %(reference)s. We've emailed you the details.",
                len(ticket_ids),
            )
            % {"count": len(ticket_ids), "event": transfer.to_event.title, "reference": moved.reference},
        )
    return _done(request, detail_url)


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _ticket_type_of(event, value):
    if not str(value or "").isdigit():
        return None
    ticket_type = TicketType.objects.filter(event=event, pk=int(value)).first()
    if ticket_type is not None:
        ticket_type.event = event
    return ticket_type


def _waiting_entry(request, code):
    """The waiting-list place this viewer may see (their account's, or granted by its manage
    link); None when nobody is logged in (they are asked to), a 404 for anyone else's."""
    try:
        return selectors.waiting_list_entry_get_for_viewer(request=request, code=code)
    except Http404:
        if request.user.is_authenticated:
            raise
        return None


def _waiting_list_home(request, entry) -> str:
    if request.user.is_authenticated and entry.user_id == request.user.pk:
        return reverse("bookings:event_list") + "?tab=waiting"
    return reverse("bookings:waiting_detail", args=[entry.code])


@never_cache
@require_GET
def waiting_link(request, token: str):
    """The manage link from the waiting-list emails: grants this session that one place."""
    entry = links.waiting_list_entry_for_manage_token(token)
    if entry is None:
        return _private(
            render(request, "bookings/waiting_confirm_invalid.html", {"manage": True}, status=404)
        )
    links.waiting_list_grant(request.session, entry)
    return _private(redirect("bookings:waiting_detail", code=entry.code))


@require_GET
def waiting_detail(request, code):
    entry = _waiting_entry(request, code)
    if entry is None:
        return redirect_to_login(request.get_full_path())
    context = {
        "entry": entry,
        "event": entry.event,
        "organiser": entry.organiser,
        "section": "events" if request.user.is_authenticated else None,
        "places_form": forms.WaitingPlacesForm(entry=entry),
        "position": selectors.waiting_list_position(entry=entry),
        "type_position": selectors.waiting_list_type_position(entry=entry),
        # The hold's end in the reader's own zone (the organiser's for a guest): never the zone
        # of the place's owner when someone else opened its manage link.
        "hold_zone": reader_time_zone(request.user, entry.organiser),
    }
    if entry.may_claim:
        context["offer_url"] = links.waiting_list_offer_url(entry)
    return _private(render(request, "bookings/waiting_detail.html", context))


@require_http_methods(["GET", "POST"])
def waiting_leave(request, code):
    entry = _waiting_entry(request, code)
    if entry is None:
        return redirect_to_login(request.get_full_path())
    if request.method == "POST":
        services.waiting_list_leave(entry=entry)
        messages.success(
            request, _("You've left the waiting list for %(event)s.") % {"event": entry.event.title}
        )
        return _done(request, _waiting_list_home(request, entry))
    context = {"entry": entry, "event": entry.event, "organiser": entry.organiser}
    return _dialog(request, "bookings/waiting_leave.html", context)


@require_http_methods(["GET", "POST"])
def waiting_places(request, code):
    """Ask for fewer places while waiting (the manage page's form; a page of its own when refused)."""
    entry = _waiting_entry(request, code)
    if entry is None:
        return redirect_to_login(request.get_full_path())
    form = forms.WaitingPlacesForm(request.POST if request.method == "POST" else None, entry=entry)
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.waiting_list_change_quantity(entry=entry, quantity=form.cleaned_data["quantity"])
        except PortalError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                ngettext(
                    "You're now waiting for %(count)s place.",
                    "You're now waiting for %(count)s places.",
                    entry.quantity,
                )
                % {"count": entry.quantity},
            )
            return redirect("bookings:waiting_detail", code=entry.code)
    context = {"entry": entry, "event": entry.event, "organiser": entry.organiser, "places_form": form}
    return _private(render(request, "bookings/waiting_places.html", context))
