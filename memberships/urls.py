from django.urls import path

from portal.views import coming_soon

app_name = "memberships"
# The Memberships section replaces this placeholder in its own issue.
urlpatterns = [
    path("", coming_soon, {"section": "memberships", "title": "Memberships"}, name="membership_list")
]
