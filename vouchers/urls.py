from django.urls import path

from vouchers import views

app_name = "vouchers"
urlpatterns = [
    path("", views.voucher_list, name="voucher_list"),
    path("<uuid:public_id>/", views.voucher_detail, name="voucher_detail"),
]
