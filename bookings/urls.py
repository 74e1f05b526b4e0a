from django.urls import path

from bookings import views

app_name = "bookings"
urlpatterns = [
    path("events/", views.event_list, name="event_list"),
    path("link/new/", views.booking_link_request, name="booking_link_request"),
    path("link/<str:token>/", views.booking_link, name="booking_link"),
    path("bookings/<str:reference>/", views.booking_detail, name="booking_detail"),
    path("bookings/<str:reference>/manage/", views.booking_manage, name="booking_manage"),
    path("bookings/<str:reference>/cancel/", views.booking_cancel, name="booking_cancel"),
    path("bookings/<str:reference>/details/", views.booking_details, name="booking_details"),
    path("bookings/<str:reference>/give/", views.booking_give, name="booking_give"),
    path("bookings/<str:reference>/gifts/<uuid:code>/withdraw/", views.gift_withdraw, name="gift_withdraw"),
    path("gift/<str:token>/", views.gift_accept, name="gift_accept"),
    path("bookings/<str:reference>/transfer/", views.booking_transfer, name="booking_transfer"),
    path("waiting/confirm/<str:token>/", views.waiting_confirm, name="waiting_confirm"),
    path("waiting/link/<str:token>/", views.waiting_link, name="waiting_link"),
    path("refunds/<str:token>/", views.refund_choice, name="refund_choice"),
    path("waiting/<uuid:code>/", views.waiting_detail, name="waiting_detail"),
    path("waiting/<uuid:code>/leave/", views.waiting_leave, name="waiting_leave"),
    path("waiting/<uuid:code>/places/", views.waiting_places, name="waiting_places"),
]
