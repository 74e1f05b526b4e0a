from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.models import Organiser

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
