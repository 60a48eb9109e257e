from django.apps import AppConfig


class AuthorityConfig(AppConfig):
    name = "authority"
    verbose_name = "Tenancy"
    default_auto_field = "django.db.models.BigAutoField"
