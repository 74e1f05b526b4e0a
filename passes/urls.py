from django.urls import path

from passes import views

app_name = "passes"
urlpatterns = [
    path("", views.pass_list, name="pass_list"),
    path("<uuid:code>/", views.pass_detail, name="pass_detail"),
]
