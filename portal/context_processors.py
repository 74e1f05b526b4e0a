from __future__ import annotations

from django.conf import settings


def portal(request):
    return {"site_name": "Booker Portal", "debug": settings.DEBUG}
