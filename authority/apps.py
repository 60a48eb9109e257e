from django.apps import AppConfig


class AuthorityConfig(AppConfig):
    name = "authority"
    verbose_name = "Tenancy"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the receiver that drops a deleted OAuth2 token from the authentication cache.
        from authority.services import oauth2_clients  # noqa: F401
