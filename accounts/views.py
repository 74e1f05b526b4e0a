"""The Account page (person icon): email, password, and deleting the account.

Email and password changes are allauth's own pages (styled by templates/allauth/layouts/); this
page links to them and holds the delete confirmation, which works with and without htmx."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts import claims, privacy, selectors, services
from accounts.forms import AccountDeleteForm, AccountTimeZoneForm
from accounts.models import PendingClaim
from portal.exceptions import PortalError
from portal.htmx import render_page
from portal.ratelimit import rate_limited


@require_GET
@login_required
def account(request):
    user = request.user
    pending = EmailAddress.objects.filter(user=user, verified=False).exclude(email__iexact=user.email).first()
    context = {
        "section": "account",
        "pending_email": pending.email if pending else "",
        "email_verified": EmailAddress.objects.filter(
            user=user, email__iexact=user.email, verified=True
        ).exists(),
        "pending_claims": selectors.pending_claims_for(user=user),
        "time_zone_form": AccountTimeZoneForm(instance=user),
    }
    return render(request, "accounts/account_detail.html", context)


@require_POST
@login_required
def account_time_zone(request):
    """Save the booker's time zone (the Account page's form; a plain post, no JavaScript needed).
    A name that is not in the list is refused with the page's message, nothing saved."""
    form = AccountTimeZoneForm(request.POST, instance=request.user)
    if form.is_valid():
        form.save()
        if request.user.time_zone:
            messages.success(
                request,
                _("Times of places held for you are now told in %(zone)s.")
                % {"zone": request.user.time_zone},
            )
        else:
            messages.success(
                request, _("Times of places held for you are now told in the organiser's time zone.")
            )
    else:
        messages.error(request, _("Choose a time zone from the list."))
    return redirect(reverse("accounts:account") + "#time-zone-title")


@require_http_methods(["GET", "POST"])
@login_required
def account_claim(request, code):
    """What was found for an address the booker added and confirmed; Attach makes it theirs."""
    claim = get_object_or_404(PendingClaim.objects.filter(user=request.user), code=code)
    if request.method == "POST":
        try:
            services.claim_attach(user=request.user, claim=claim)
        except PortalError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("Everything made with %(email)s is now in your account.") % {"email": claim.email}
            )
        return redirect("accounts:account")
    context = {
        "section": "account",
        "claim": claim,
        "found": claims.find(user=request.user, email=claim.email),
    }
    return render(request, "accounts/account_claim.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def account_delete(request):
    form = AccountDeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if rate_limited(request, "account-delete", period=900, subject=str(request.user.pk), per_subject=5):
            # A session left open must not become a way to guess the password.
            form.add_error(None, _("Too many attempts. Please wait a few minutes and try again."))
        else:
            try:
                services.account_delete(user=request.user, password=form.cleaned_data["password"])
            except services.WrongPassword as exc:
                form.add_error("password", exc.message)
            except PortalError as exc:
                form.add_error(None, exc.message)
            else:
                logout(request)
                messages.success(request, _("Your account has been deleted. Thank you for booking with us."))
                return HttpResponseClientRedirect("/") if request.htmx else redirect("home")
    context = {
        "section": "account",
        "form": form,
        "notes": privacy.notes(user=request.user),  # what happens to the apps' things (memberships)
        "has_password": request.user.has_usable_password(),
    }
    return render_page(request, "accounts/account_delete.html", "confirm-dialog", context)
