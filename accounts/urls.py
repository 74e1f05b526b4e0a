from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.account, name="account"),
    path("delete/", views.account_delete, name="account_delete"),
    path("time-zone/", views.account_time_zone, name="account_time_zone"),
    path("attach/<uuid:code>/", views.account_claim, name="account_claim"),
]
