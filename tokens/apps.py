from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "tokens"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported once the models are: the layers below learn what tokens needs of them.
        from hsm.models import KeyPurpose
        from hsm.rotation import key_retention_register
        from tokens.selectors import (
            access_token_keys_needed,
            client_session_keys_needed,
            delegation_keys_needed,
        )

        key_retention_register(KeyPurpose.ACCESS_TOKEN_SIGNING, access_token_keys_needed)
        key_retention_register(KeyPurpose.DELEGATION_HMAC, delegation_keys_needed)
        key_retention_register(KeyPurpose.CLIENT_SESSION_HMAC, client_session_keys_needed)
