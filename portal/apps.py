from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Platform"

    def ready(self):
        from portal import checks  # noqa: F401  (registers the system checks)
