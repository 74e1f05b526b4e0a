from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from bookings import forms, links, rules, selectors, services
from bookings.tasks import booking_send_new_links
from portal.exceptions import PortalError
from portal.models import Organiser
from portal.ratelimit import rate_limited

TABS = [("upcoming", "Upcoming"), ("cancelled", "Cancelled"), ("past", "Past"), ("waiting", "Waiting list")]


@require_GET
@login_required
def event_list(request):
    tab = request.GET.get("tab", "upcoming")
    if tab not in dict(TABS):
        tab = "upcoming"
    organiser = Organiser.objects.filter(slug=request.GET.get("organiser", "")).first()
    return render(
        request,
        "bookings/event_list.html",
        {"tabs": TABS, "tab": tab, "organiser": organiser, "section": "events"},
    )


@require_http_methods(["GET", "POST"])
def event_book(request, org_slug: str, code):
    organiser = get_object_or_404(Organiser, slug=org_slug)
    event = selectors.event_get_public(organiser=organiser, code=code)
    context = {"organiser": organiser, "event": event, "seats_left": services.seats_left(event)}
    if event.is_cancelled or event.has_started:
        return render(request, "bookings/event_book.html", context)

    source = request.POST if request.method == "POST" else request.GET
    quantities = forms.TicketQuantitiesForm(
        source if any(k.startswith("qty_") for k in source) else None,
        event=event,
        ticket_types=event.ticket_types.all(),
        seats_left=context["seats_left"],
    )
    context["quantities"] = quantities
    if not quantities.is_bound or not quantities.is_valid():
        context["waiting_form"] = forms.WaitingListForm(initial=_known_booker(request))
        return render(request, "bookings/event_book.html", context)

    details = forms.BookingDetailsForm(
        request.POST if request.method == "POST" else None,
        ticket_slots=quantities.ticket_slots(),
        form_fields=rules.booking_form_fields_for_event(event=event),
        user=request.user,
    )
    context["details"] = details
    if request.method == "POST" and details.is_valid():
        try:
            booking = _place_booking(request, event, details)
        except PortalError as error:
            details.add_error(None, error.message)
        else:
            return _after_booking(request, booking)
    return render(request, "bookings/event_book.html", context)


def _known_booker(request) -> dict:
    user = request.user
    return {"name": user.name, "email": user.email} if user.is_authenticated else {}


def _place_booking(request, event, details):
    data = details.cleaned_data
    booking = services.booking_place(
        event=event,
        booker_name=data["booker_name"],
        booker_email=data["booker_email"],
        booker_phone=data["booker_phone"],
        user=details.user,
        tickets=details.tickets(),
        answers=details.answers(),
        idempotency_key=data["idempotency_key"],
        booked_from=reverse("organiser_page", args=[event.organiser.slug]),
        new_account_password=data["password"] if data.get("create_account") else None,
    )
    if booking.user and not request.user.is_authenticated:
        login(request, booking.user, backend="django.contrib.auth.backends.ModelBackend")
    links.grant(request.session, booking)
    return booking


def _after_booking(request, booking):
    detail_url = reverse("bookings:booking_detail", args=[booking.reference])
    if booking.status == booking.Status.PENDING:
        checkout = services.booking_start_payment(
            booking=booking,
            success_url=settings.SITE_URL + detail_url,
            cancel_url=settings.SITE_URL + request.path,
        )
        if checkout.redirect_url:
            return redirect(checkout.redirect_url)
    messages.success(request, f"You're booked! We've emailed your confirmation to {booking.booker_email}.")
    return redirect(detail_url)


@require_http_methods(["GET", "POST"])
def waiting_list_join(request, org_slug: str, code):
    organiser = get_object_or_404(Organiser, slug=org_slug)
    event = selectors.event_get_public(organiser=organiser, code=code)
    form = forms.WaitingListForm(request.POST or None, initial=_known_booker(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.waiting_list_join(
                event=event, user=request.user if request.user.is_authenticated else None, **form.cleaned_data
            )
        except PortalError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, f"You're on the waiting list for {event.title}. We'll email you if a place comes up."
            )
            return redirect("organiser_page", org_slug=organiser.slug)
    return render(
        request, "bookings/waiting_list_join.html", {"organiser": organiser, "event": event, "form": form}
    )


def _private(response):
    """Pages a signed link can open: never cached, never leak their address onwards."""
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    return response


@require_GET
def booking_detail(request, reference: str):
    booking = selectors.booking_get_for_viewer(request=request, reference=reference)
    return _private(
        render(
            request,
            "bookings/booking_detail.html",
            {
                "booking": booking,
                "event": booking.event,
                "organiser": booking.organiser,
                "section": "events" if request.user.is_authenticated else None,
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
    return _private(redirect("bookings:booking_detail", reference=booking.reference))


@require_http_methods(["GET", "POST"])
def booking_link_request(request):
    form = forms.NewLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].lower()
        # The same answer whether or not we know the address; only the email reveals anything.
        if not rate_limited(request, "new-link", email, limit=5, period=3600):
            booking_send_new_links.delay(email)
        messages.success(request, f"If we have bookings for {email}, a new link is on its way.")
        return redirect("bookings:booking_link_request")
    return _private(render(request, "bookings/link_request.html", {"form": form}))
