from django.urls import path

from bookings import views

app_name = "bookings"
urlpatterns = [path("", views.event_list, name="event_list")]
