"""The Memberships section: thin views that parse, call a service or selector, and render.

Each view renders a full page on a normal request and its named partial on an htmx request;
every flow also works with JavaScript off (plain links and POST forms)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from memberships import changes, selectors, services
from memberships.forms import CancelForm, CardForm, PauseForm, SwitchForm
from memberships.models import Membership
from portal.exceptions import PortalError
from portal.htmx import render_page
from portal.models import Organiser

CLOSE_MODAL = '<div id="modal" hx-swap-oob="true"></div>'


def _page(request, template: str, partial: str, context: dict, status: int = 200):
    return render_page(request, template, partial, {"section": "memberships", **context}, status=status)


def _membership_for(request, code) -> Membership:
    # Through the booker: another booker's membership is simply not found (404).
    return get_object_or_404(selectors.membership_list_for_booker(user=request.user), code=code)


def _back_to_list(request, response_for_htmx: HttpResponse | None = None):
    url = reverse("memberships:membership_list")
    if request.htmx:
        return response_for_htmx or HttpResponseClientRedirect(url)
    return redirect(url)


def _updated_card(request, membership: Membership) -> HttpResponse:
    """htmx answer to a POST: the membership's card again, and the modal closed (out of band)."""
    html = render_to_string(
        "memberships/membership_list.html#membership-card", {"membership": membership}, request=request
    )
    return HttpResponse(html + CLOSE_MODAL)


@require_GET
@login_required
def membership_list(request):
    organiser = Organiser.objects.filter(slug=request.GET.get("organiser", "")).first()
    memberships = list(selectors.membership_list_for_booker(user=request.user, organiser=organiser))
    joining = None
    if request.GET.get("session"):
        # Back from Stripe Checkout: the webhook that activates the membership may not be here yet.
        joining = (
            Membership.objects.for_booker(request.user)
            .filter(checkout_reference=request.GET["session"], status__in=Membership.NOT_STARTED)
            .select_related("plan")
            .first()
        )
    return _page(
        request,
        "memberships/membership_list.html",
        "membership-list",
        {
            "organiser": organiser,
            "current": [m for m in memberships if m.is_current],
            "ended": [m for m in memberships if not m.is_current],
            "joining": joining,
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def membership_join(request, plan_code):
    plan = get_object_or_404(selectors.membership_plan_get_offered(code=plan_code))
    if request.method == "POST":
        list_url = settings.SITE_URL + reverse("memberships:membership_list")
        try:
            result = services.membership_subscribe(
                user=request.user,
                plan=plan,
                # Stripe fills in {CHECKOUT_SESSION_ID} when it sends the booker back.
                success_url=f"{list_url}?session={{CHECKOUT_SESSION_ID}}",
                cancel_url=settings.SITE_URL + reverse("organiser_page", args=[plan.organiser.slug]),
            )
        except PortalError as exc:
            messages.error(request, exc.message)
        else:
            if result.redirect_url:
                if request.htmx:
                    return HttpResponseClientRedirect(result.redirect_url)
                return redirect(result.redirect_url)
            messages.success(request, _("Welcome! Your %(plan)s membership is active.") % {"plan": plan.name})
            return _back_to_list(request)
    held = selectors.membership_current_for(user=request.user, plan=plan)
    return _page(request, "memberships/membership_join.html", "join-dialog", {"plan": plan, "held": held})


@require_GET
@login_required
def membership_invoices(request, code):
    membership = _membership_for(request, code)
    invoices = selectors.membership_invoice_list(membership=membership)
    return _page(
        request,
        "memberships/membership_invoices.html",
        "invoices-dialog",
        {"membership": membership, "invoices": invoices},
    )


@require_GET
@login_required
def membership_invoice(request, code, invoice_code):
    membership = _membership_for(request, code)
    invoice = get_object_or_404(selectors.membership_invoice_list(membership=membership), code=invoice_code)
    return _page(
        request,
        "memberships/membership_invoice.html",
        "invoice",
        {"membership": membership, "invoice": invoice},
    )


@require_http_methods(["GET", "POST"])
@login_required
def membership_card(request, code):
    membership = _membership_for(request, code)
    hosted = membership.gateway == "stripe"
    form = CardForm(request.POST if request.method == "POST" and not hosted else None)
    if request.method == "POST":
        try:
            if hosted:
                url = services.membership_card_update_url(
                    membership=membership,
                    return_url=settings.SITE_URL + reverse("memberships:membership_list"),
                )
                return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
            if form.is_valid():
                membership = services.membership_update_card(membership=membership, **form.cleaned_data)
                messages.success(
                    request,
                    _("Card updated: %(brand)s ending %(last4)s.")
                    % {"brand": membership.card_brand, "last4": membership.card_last4},
                )
                return _back_to_list(request, _updated_card(request, membership) if request.htmx else None)
        except PortalError as exc:
            messages.error(request, exc.message)
    return _page(
        request,
        "memberships/membership_card.html",
        "card-dialog",
        {"membership": membership, "form": form, "hosted": hosted},
    )


@require_http_methods(["GET", "POST"])
@login_required
def membership_cancel(request, code):
    membership = _membership_for(request, code)
    form = CancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.membership_cancel(membership=membership, reason=form.cleaned_data["reason"])
        except PortalError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("Your %(plan)s membership is cancelled. It ends on %(ends)s.")
                % {
                    "plan": membership.plan.name,
                    "ends": services.local_date(membership.ends_on, membership.organiser),
                },
            )
            return _back_to_list(request, _updated_card(request, membership) if request.htmx else None)
    return _page(
        request,
        "memberships/membership_cancel.html",
        "confirm-dialog",
        {"membership": membership, "form": form},
    )


@require_http_methods(["GET", "POST"])
@login_required
def membership_resume(request, code):
    """Take back a cancellation before the membership ends (confirm, then POST)."""
    membership = _membership_for(request, code)
    if request.method == "POST":
        try:
            membership = changes.membership_resume(membership=membership)
        except PortalError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("Your %(plan)s membership will carry on. It renews on %(date)s.")
                % {
                    "plan": membership.plan.name,
                    "date": services.local_date(membership.renews_on, membership.organiser),
                },
            )
            return _back_to_list(request, _updated_card(request, membership) if request.htmx else None)
    return _page(request, "memberships/membership_resume.html", "resume-dialog", {"membership": membership})


def _pause_choices(membership: Membership) -> list[tuple[int, str]]:
    # Short enough for a phone's select: "2 weeks, until 14 Dec 2026".
    choices = []
    for weeks in range(1, membership.plan.pause_max_weeks + 1):
        until = timezone.localtime(changes.pause_resumes_at(membership, weeks), membership.organiser.tzinfo)
        label = ngettext("%(weeks)s week, until %(day)s", "%(weeks)s weeks, until %(day)s", weeks) % {
            "weeks": weeks,
            "day": date_format(until, _("j M Y")),
        }
        choices.append((weeks, label))
    return choices


@require_http_methods(["GET", "POST"])
@login_required
def membership_pause(request, code):
    """Choose how long to pause and confirm (one dialog), then POST."""
    membership = _membership_for(request, code)
    form = PauseForm(request.POST if request.method == "POST" else None, choices=_pause_choices(membership))
    problem = ""  # the plan's rules say no: the dialog explains instead of offering a form
    try:
        if not membership.is_paused:
            changes.membership_pause_check(membership)
    except PortalError as exc:
        problem = exc.message
    if request.method == "POST" and form.is_valid():
        try:
            membership = changes.membership_pause(membership=membership, weeks=form.cleaned_data["weeks"])
        except PortalError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("Your %(plan)s membership is paused until %(date)s. You won't be charged meanwhile.")
                % {
                    "plan": membership.plan.name,
                    "date": services.local_date(membership.paused_until, membership.organiser),
                },
            )
            return _back_to_list(request, _updated_card(request, membership) if request.htmx else None)
    return _page(
        request,
        "memberships/membership_pause.html",
        "pause-dialog",
        {"membership": membership, "form": form, "problem": problem},
    )


@require_http_methods(["GET", "POST"])
@login_required
def membership_pause_end(request, code):
    """End a pause early (confirm, then POST)."""
    membership = _membership_for(request, code)
    if request.method == "POST":
        try:
            membership = changes.membership_pause_end(membership=membership)
        except PortalError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("Welcome back! Your %(plan)s membership is active again.") % {"plan": membership.plan.name},
            )
            return _back_to_list(request, _updated_card(request, membership) if request.htmx else None)
    return _page(
        request, "memberships/membership_pause_end.html", "pause-end-dialog", {"membership": membership}
    )


@require_http_methods(["GET", "POST"])
@login_required
def membership_switch(request, code):
    """Switch plan in two steps: choose a plan (GET ?plan=), see what it costs and confirm (POST)."""
    membership = _membership_for(request, code)
    plans = list(selectors.membership_switch_plan_list(membership=membership))
    data = request.POST if request.method == "POST" else (request.GET if "plan" in request.GET else None)
    form = SwitchForm(data, plans=plans)
    context = {
        "membership": membership,
        "form": form,
        "plans": plans,
        "preview": None,
        "plan": None,
        # Plans billed the other way (monthly <-> yearly) start a new period: the dialog says so.
        "other_interval": any(changes.switch_resets_billing_cycle(membership, p) for p in plans),
    }
    if form.is_valid():
        plan = form.cleaned_data["plan"]
        context["plan"] = plan
        try:
            if request.method == "POST" and form.cleaned_data["quoted_at"]:
                new_period = changes.switch_resets_billing_cycle(membership, plan)
                membership = changes.membership_switch(
                    membership=membership, plan=plan, proration_date=form.cleaned_data["quoted_at"]
                )
                if new_period:
                    message = _(
                        "You're now on %(plan)s. Its first period starts today and is invoiced now, "
                        "less the unused time of your old plan."
                    )
                else:
                    message = _(
                        "You're now on %(plan)s. The difference for the rest of this period is on your next invoice."
                    )
                messages.success(request, message % {"plan": plan.name})
                return _back_to_list(request, _updated_card(request, membership) if request.htmx else None)
            context["preview"] = changes.membership_switch_preview(membership=membership, plan=plan)
        except PortalError as exc:
            messages.error(request, exc.message)
            if context["preview"] is None and membership.plan_id != plan.pk:
                try:  # out of date: show the amounts as they are now, to confirm again
                    context["preview"] = changes.membership_switch_preview(membership=membership, plan=plan)
                except PortalError:
                    pass
    return _page(request, "memberships/membership_switch.html", "switch-dialog", context)
