from django.urls import path

from portal.views import coming_soon

app_name = "passes"
# The Passes section replaces this placeholder in its own issue.
urlpatterns = [path("", coming_soon, {"section": "passes", "title": "Passes"}, name="pass_list")]
