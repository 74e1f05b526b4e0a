"""The Passes section and buying a pass on an organiser's public page. Thin views: parse, call a
service or selector, render (a full page, or the named partial on an htmx request)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from passes import selectors, services
from portal.exceptions import PortalError
from portal.htmx import render_page
from portal.middleware import speak_organisers_language
from portal.models import Organiser
from portal.navigation import paid_sections_visible


def _page(request, template: str, partial: str, context: dict, status: int = 200):
    return render_page(request, template, partial, {"section": "passes", **context}, status=status)


@require_GET
@login_required
def pass_list(request):
    organiser = Organiser.objects.filter(slug=request.GET.get("organiser", "")).first()
    passes = list(selectors.pass_list_for_booker(user=request.user, organiser=organiser))
    return _page(
        request,
        "passes/pass_list.html",
        "pass-list",
        {
            "organiser": organiser,
            "offered": paid_sections_visible(request),
            "active": [p for p in passes if p.is_active],
            "inactive": [p for p in passes if not p.is_active],
        },
    )


@require_GET
@login_required
def pass_detail(request, code):
    # Through the booker: another booker's pass is simply not found (404).
    pass_ = get_object_or_404(selectors.pass_list_for_booker(user=request.user), code=code)
    pass_type = pass_.pass_type
    return _page(
        request,
        "passes/pass_detail.html",
        "detail-dialog",
        {
            "pass": pass_,
            "pass_type": pass_type,
            "events": list(selectors.pass_type_event_list(pass_type=pass_type)),
            "redemptions": list(selectors.pass_redemption_list(pass_=pass_)),
        },
    )


# Public page ----------------------------------------------------------------------------------


def _organiser_selling(request, org_slug: str) -> Organiser:
    organiser = get_object_or_404(Organiser, slug=org_slug)
    speak_organisers_language(request, organiser)
    if not organiser.offers_paid_products:
        raise Http404("This organiser doesn't sell passes.")
    return organiser


@require_GET
def pass_type_list(request, org_slug: str):
    organiser = _organiser_selling(request, org_slug)
    pass_types = list(selectors.pass_type_list_offered(organiser=organiser))
    return render(request, "passes/pass_type_list.html", {"organiser": organiser, "pass_types": pass_types})


@require_http_methods(["GET", "POST"])
@login_required
def pass_buy(request, org_slug: str, code):
    organiser = _organiser_selling(request, org_slug)
    pass_type = get_object_or_404(selectors.pass_type_get_offered(organiser=organiser, code=code))
    if request.method == "POST":
        list_url = settings.SITE_URL + reverse("passes:pass_list")
        try:
            purchase = services.pass_buy(
                user=request.user,
                pass_type=pass_type,
                success_url=f"{list_url}?bought={pass_type.code}",
                cancel_url=settings.SITE_URL + request.path,
                idempotency_key=(request.POST.get("idempotency_key") or uuid.uuid4().hex)[:64],
            )
        except PortalError as exc:
            messages.error(request, exc.message)
        else:
            if purchase.redirect_url:
                return redirect(purchase.redirect_url)
            messages.success(
                request,
                _("Thanks! Your %(pass)s pass is ready to use when you book.") % {"pass": pass_type.name},
            )
            return redirect("passes:pass_list")
    return render(
        request,
        "passes/pass_buy.html",
        {
            "organiser": organiser,
            "pass_type": pass_type,
            "events": list(selectors.pass_type_event_list(pass_type=pass_type)),
            "idempotency_key": uuid.uuid4().hex,
        },
    )
