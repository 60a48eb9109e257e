from django.apps import AppConfig


class AuthorityConfig(AppConfig):
    name = "authority"
    verbose_name = "Tenancy"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Wraps every database connection so that committed writes are announced (state_changes);
        # connects the receiver that drops a deleted OAuth2 token from the authentication cache.
        from authority import state_changes  # noqa: F401
        from authority.services import oauth2_clients  # noqa: F401
