from django.urls import path

from calendars import views

app_name = "calendars"
urlpatterns = [
    path("", views.subscribe, name="subscribe"),
    path("bookings/<str:reference>.ics", views.booking_ics, name="booking_ics"),
    path("feed/<str:token>.ics", views.feed, name="feed"),
    path("feed/new-address/", views.feed_rotate, name="feed_rotate"),
    path("reminders/", views.reminders_choose, name="reminders_choose"),
    path("reminders/off/<str:token>/", views.reminders_unsubscribe, name="reminders_unsubscribe"),
]
