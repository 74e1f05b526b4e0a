from django.urls import path

from memberships import views

app_name = "memberships"
urlpatterns = [
    path("", views.membership_list, name="membership_list"),
    path("join/<uuid:plan_code>/", views.membership_join, name="membership_join"),
    path("<uuid:code>/invoices/", views.membership_invoices, name="membership_invoices"),
    path("<uuid:code>/invoices/<uuid:invoice_code>/", views.membership_invoice, name="membership_invoice"),
    path("<uuid:code>/card/", views.membership_card, name="membership_card"),
    path("<uuid:code>/cancel/", views.membership_cancel, name="membership_cancel"),
]
