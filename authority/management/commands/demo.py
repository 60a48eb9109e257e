"""Creates the demo tenants `acme` and `globex` (idempotent) and prints fresh credentials."""

import json
from typing import Any

from django.core.management.base import BaseCommand

from authority.services.demo import demo_load


class Command(BaseCommand):
    help = "Create the demo owners acme and globex, a member and an OAuth2 client each."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--json", action="store_true", help="Print the credentials as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        result = demo_load()
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2))
            return
        for slug, info in result.items():
            self.stdout.write(
                f"{slug}: admin login {info['user']['username']} / {info['user']['password']}; "
                f"OAuth2 client {info['oauth2_client']['client_id']} / "
                f"{info['oauth2_client']['client_secret']}; container {info['container_id']}"
            )
