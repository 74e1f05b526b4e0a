from django.urls import path

from portal.views import coming_soon

app_name = "vouchers"
# The Vouchers section replaces this placeholder in its own issue.
urlpatterns = [path("", coming_soon, {"section": "vouchers", "title": "Vouchers"}, name="voucher_list")]
