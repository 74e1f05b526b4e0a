"""The Vouchers section and buying a gift voucher on an organiser's public page. Thin views:
parse, call a service or selector, render (a full page, or the named partial for htmx)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from portal.exceptions import PortalError
from portal.htmx import render_page
from portal.middleware import speak_organisers_language
from portal.models import Organiser
from portal.navigation import paid_sections_visible
from vouchers import selectors, services
from vouchers.forms import VoucherBuyForm
from vouchers.models import Voucher


def _page(request, template: str, partial: str, context: dict, status: int = 200):
    return render_page(request, template, partial, {"section": "vouchers", **context}, status=status)


@require_GET
@login_required
def voucher_list(request):
    organiser = Organiser.objects.filter(slug=request.GET.get("organiser", "")).first()
    vouchers = list(selectors.voucher_list_for_booker(user=request.user, organiser=organiser))
    return _page(
        request,
        "vouchers/voucher_list.html",
        "voucher-list",
        {
            "organiser": organiser,
            "offered": paid_sections_visible(request),
            "credits": selectors.credit_balances(vouchers),
            "active": [v for v in vouchers if v.is_active and v.source != Voucher.Source.CREDIT],
            "inactive": [v for v in vouchers if not v.is_active],
        },
    )


@require_GET
@login_required
def voucher_detail(request, public_id):
    # Through the booker: another booker's voucher is simply not found (404).
    voucher = get_object_or_404(selectors.voucher_list_for_booker(user=request.user), public_id=public_id)
    response = _page(
        request,
        "vouchers/voucher_detail.html",
        "detail-dialog",
        {
            "voucher": voucher,
            "redemptions": list(selectors.voucher_redemption_list(voucher=voucher)),
            "bought_by_me": voucher.was_bought_by(request.user),
        },
    )
    response["Cache-Control"] = "no-store"  # the page shows the code, which is the money
    return response


@require_http_methods(["GET", "POST"])
@login_required
def voucher_buy(request, org_slug: str):
    organiser = get_object_or_404(Organiser, slug=org_slug)
    speak_organisers_language(request, organiser)
    if not organiser.offers_paid_products:
        raise Http404("This organiser doesn't sell gift vouchers.")
    form = VoucherBuyForm(request.POST or None, currency=organiser.currency)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        list_url = settings.SITE_URL + reverse("vouchers:voucher_list")
        try:
            purchase = services.voucher_buy(
                user=request.user,
                organiser=organiser,
                value=form.value_minor(),
                recipient_name=data["recipient_name"],
                recipient_email=data["recipient_email"],
                message=data["message"],
                success_url=f"{list_url}?bought=1",
                cancel_url=settings.SITE_URL + request.path,
                idempotency_key=data["idempotency_key"],
            )
        except PortalError as exc:
            form.add_error(None, exc.message)
        else:
            if purchase.redirect_url:
                return redirect(purchase.redirect_url)
            voucher = purchase.voucher
            to = voucher.recipient_email or voucher.buyer_email
            messages.success(
                request,
                _("Thanks! Your gift voucher is ready and its code is on its way to %(email)s.")
                % {"email": to},
            )
            return redirect("vouchers:voucher_detail", public_id=voucher.public_id)
    return render(request, "vouchers/voucher_buy.html", {"organiser": organiser, "form": form})
