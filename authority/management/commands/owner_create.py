"""Creates an owner (a tenant), as the console's Add owner and `POST /api/v1/owners` do: with
--public-key the owner keeps its own wallet and no key is made; without, its key is made in the
HSM."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from authority.errors import AuthorityError
from authority.models import BearerFlavour
from authority.principals import Principal
from authority.services.owners import owner_create


class Command(BaseCommand):
    help = "Create an owner; --public-key for one that keeps its own wallet."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--slug", required=True)
        parser.add_argument("--public-key", help="the wallet's compressed P-256 key, in hex")
        parser.add_argument(
            "--bearer-flavour", choices=BearerFlavour.values, default=BearerFlavour.NEOFS
        )
        parser.add_argument("--renew-period", type=int, help="seconds")
        parser.add_argument("--max-lifetime", type=int, help="seconds")

    def handle(self, *args: Any, **options: Any) -> None:
        public_key = None
        if options["public_key"]:
            try:
                public_key = bytes.fromhex(options["public_key"])
            except ValueError:
                raise CommandError("public_key: hex digits only") from None
        try:
            owner = owner_create(
                actor=Principal(system="manage.py owner_create", internal=True),
                name=options["name"],
                slug=options["slug"],
                public_key=public_key,
                bearer_flavour=options["bearer_flavour"],
                renew_period=options["renew_period"],
                max_lifetime=options["max_lifetime"],
            )
        except AuthorityError as exc:
            raise CommandError(f"{exc.field or 'owner'}: {exc.detail}") from None
        kind = "keeps its own wallet" if owner.signs_own_tokens else "key made in the HSM"
        self.stdout.write(
            self.style.SUCCESS(f"Owner {owner.slug} ({owner.neofs_owner_id}) created: {kind}.")
        )
