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
    path("<uuid:code>/resume/", views.membership_resume, name="membership_resume"),
    path("<uuid:code>/pause/", views.membership_pause, name="membership_pause"),
    path("<uuid:code>/pause/end/", views.membership_pause_end, name="membership_pause_end"),
    path("<uuid:code>/switch/", views.membership_switch, name="membership_switch"),
]
