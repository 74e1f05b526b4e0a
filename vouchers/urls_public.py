"""Under an organiser's public page: /<org-slug>/vouchers/."""

from django.urls import path

from vouchers import views

app_name = "vouchers_public"
urlpatterns = [path("buy/", views.voucher_buy, name="voucher_buy")]
