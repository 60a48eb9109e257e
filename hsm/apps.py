from django.apps import AppConfig


class HSMConfig(AppConfig):
    name = "hsm"
    verbose_name = "Key store (HSM)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hsm import health  # noqa: F401 - registers the readiness check
