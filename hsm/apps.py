from django.apps import AppConfig


class HSMConfig(AppConfig):
    name = "hsm"
    default_auto_field = "django.db.models.BigAutoField"
