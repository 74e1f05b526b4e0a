from django.urls import path

from portal.views import coming_soon

app_name = "accounts"
# The Account section replaces this placeholder in its own issue.
urlpatterns = [path("", coming_soon, {"section": "accounts", "title": "Account"}, name="account")]
