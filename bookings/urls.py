from django.urls import path

from bookings import views

app_name = "bookings"
urlpatterns = [
    path("events/", views.event_list, name="event_list"),
    path("link/new/", views.booking_link_request, name="booking_link_request"),
    path("link/<str:token>/", views.booking_link, name="booking_link"),
    path("bookings/<str:reference>/", views.booking_detail, name="booking_detail"),
]
