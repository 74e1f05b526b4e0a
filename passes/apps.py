from django.apps import AppConfig


class PassesConfig(AppConfig):
    name = "passes"
