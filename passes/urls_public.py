"""Under an organiser's public page: /<org-slug>/passes/."""

from django.urls import path

from passes import views

app_name = "passes_public"
urlpatterns = [
    path("", views.pass_type_list, name="pass_type_list"),
    path("<uuid:code>/buy/", views.pass_buy, name="pass_buy"),
]
