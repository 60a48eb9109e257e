"""Verify decisions per second: through the API (in process, Django test client, SQLite in a
temporary file) and through `tokens.wire` directly (decode, signature and issuer check, eACL),
for the same bearer-token request; then through the API for a container whose own stored eACL
table has 1 and 1,000 records (the cap), none of which matches, so every record is evaluated.

    make bench-verify
"""

from __future__ import annotations

import base64
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
_db = tempfile.NamedTemporaryFile(suffix=".sqlite3", delete=False)
os.environ["DATABASE_URL"] = f"sqlite:///{_db.name}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authority.settings")
os.environ["DEBUG"] = "false"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402


def rate(work, seconds: float = 3.0) -> float:  # type: ignore[no-untyped-def]
    work()
    count, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds:
        work()
        count += 1
    return count / (time.perf_counter() - began)


def main() -> None:
    call_command("hsm_init", verbosity=0)
    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    from authority.epoch import current_epoch
    from authority.models import Role
    from authority.principals import SYSTEM, Principal
    from authority.services.containers import container_create, container_update
    from authority.services.eacl_tables import MAX_RECORDS, eacl_table_create
    from authority.services.owners import membership_set, owner_create
    from tokens.services.bearer_grants import bearer_grant_issue
    from tokens.wire.bearer import BearerToken
    from tokens.wire.eacl import HeaderType, Operation, Table
    from tokens.wire.eacl import Role as EACLRole
    from tokens.wire.eacl_engine import Request, evaluate
    from tokens.wire.eacl_rules import parse_rules

    owner = owner_create(actor=SYSTEM, name="Bench", slug="bench-verify")
    user = get_user_model().objects.create(username="bench-verify")
    membership_set(actor=SYSTEM, owner=owner, role=Role.OPERATOR, user=user)
    actor = Principal(user=user)
    container = container_create(actor=actor, owner=owner, name="bench")
    rules = "deny get obj:Classification=secret others\nallow get others"
    _, token = bearer_grant_issue(
        actor=actor, container=container, receiver=None,
        table=Table(container_id=None, records=parse_rules(rules)), lifetime=3600,
    )  # fmt: skip
    raw = token.encode()
    headers = {HeaderType.OBJECT: {"Classification": "public"}, HeaderType.REQUEST: {}}

    def direct() -> None:
        decoded = BearerToken.decode(raw)
        decoded.check()
        decoded.body.lifetime.valid_at(current_epoch())  # type: ignore[union-attr]
        evaluate(decoded.body.eacl_table, Request(Operation.GET, EACLRole.OTHERS, headers=headers))  # type: ignore[arg-type]

    client = APIClient()
    client.force_authenticate(user)
    body = {
        "verb": "GET", "container": container.container_id,
        "object_headers": {"Classification": "public"},
        "bearer_token": base64.b64encode(raw).decode(),
    }  # fmt: skip

    def through_api() -> None:
        response = client.post("/api/v1/verify", body, format="json")
        assert response.status_code == 200 and response.json()["decision"] == "allow"

    def with_stored_table(records: int):  # type: ignore[no-untyped-def]
        """A request on a container whose stored table has `records` records, none matching."""
        bound = container_create(actor=actor, owner=owner, name=f"bench-{records}")
        rules = "\n".join(f"deny get obj:Project=p{i} others" for i in range(records))
        table = eacl_table_create(
            actor=actor, owner=owner, name=f"bench-{records}", container=bound,
            table=Table(container_id=None, records=parse_rules(rules)),
        )  # fmt: skip
        container_update(actor=actor, container=bound, changes={"eacl_table": table})
        stored = {"verb": "GET", "container": bound.container_id,
                  "object_headers": {"Project": "other"}}  # fmt: skip

        def work() -> None:
            response = client.post("/api/v1/verify", stored, format="json")
            assert response.status_code == 200 and response.json()["decision"] == "allow"

        return work

    wire_rate, api_rate = rate(direct), rate(through_api)
    one_rate, cap_rate = rate(with_stored_table(1)), rate(with_stored_table(MAX_RECORDS))
    print("verify decisions for one bearer-token GET (signature, issuer, lifetime, eACL)")
    print(f"  tokens.wire directly        {wire_rate:9,.0f} /s")
    ratio = api_rate / wire_rate
    print(f"  POST /api/v1/verify         {api_rate:9,.0f} /s  (in process; api/wire {ratio:.2f})")
    print("verify decisions for a GET against the container's stored eACL table (no token)")
    print(f"  1 record                    {one_rate:9,.1f} /s")
    print(f"  {MAX_RECORDS:,} records               {cap_rate:9,.1f} /s")
    os.unlink(_db.name)


if __name__ == "__main__":
    main()
