from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from bookings import views as booking_views
from portal import views, webhooks

admin.site.site_header = "Booker Portal: organiser admin"
admin.site.site_title = "Organiser admin"
admin.site.index_title = "Your organisation"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/setlang/", views.language_set, name="set_language"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("portal/", RedirectView.as_view(pattern_name="bookings:event_list"), name="portal"),
    path("portal/", include("bookings.urls")),
    path("portal/memberships/", include("memberships.urls")),
    path("portal/passes/", include("passes.urls")),
    path("portal/vouchers/", include("vouchers.urls")),
    path("portal/account/", include("accounts.urls")),
    path("portal/calendar/", include("calendars.urls")),
    path("portal/baseline/", views.portal_baseline, name="portal_baseline"),
    path("stripe/webhook/", webhooks.stripe_webhook, name="stripe_webhook"),
    path("<slug:org_slug>/passes/", include("passes.urls_public")),
    path("<slug:org_slug>/vouchers/", include("vouchers.urls_public")),
    path("<slug:org_slug>/brand.css", views.organiser_brand_css, name="organiser_brand_css"),
    # Last: any other first path segment is an organiser's public page.
    path("<slug:org_slug>/", views.organiser_page, name="organiser_page"),
    path("<slug:org_slug>/events/<uuid:code>/", booking_views.event_book, name="event_book"),
    path(
        "<slug:org_slug>/events/<uuid:code>/waiting-list/",
        booking_views.waiting_list_join,
        name="waiting_list_join",
    ),
]

if settings.SERVE_MEDIA:
    # Uploaded logos (see MEDIA_ROOT in settings for serving them elsewhere in production).
    urlpatterns.insert(
        0,
        re_path(
            rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.*)$",
            views.media,
            name="media",
        ),
    )
