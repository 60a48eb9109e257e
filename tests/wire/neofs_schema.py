"""An independent `neo.fs.v2` schema for tests, built with Google's protobuf runtime from field
numbers written down here (not from `tokens.wire`)."""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

F = descriptor_pb2.FieldDescriptorProto
OPT, REP = F.LABEL_OPTIONAL, F.LABEL_REPEATED


def _message(file, name, fields, nested=()):
    message = file.message_type.add(name=name)
    for spec in nested:
        _fill(message.nested_type.add(name=spec[0]), spec[1])
    _fill(message, fields)
    return message


def _fill(message, fields):
    for number, (field_name, kind, *rest) in enumerate(fields, start=1):
        if field_name is None:
            continue
        label = REP if rest and rest[0] == "repeated" else OPT
        field = message.field.add(name=field_name, number=number, label=label)
        if isinstance(kind, str):
            field.type = F.TYPE_MESSAGE
            field.type_name = kind
        else:
            field.type = kind


def build():
    file = descriptor_pb2.FileDescriptorProto(name="neofs_test.proto", package="t", syntax="proto3")
    _message(file, "Id", [("value", F.TYPE_BYTES)])
    _message(file, "Version", [("major", F.TYPE_UINT32), ("minor", F.TYPE_UINT32)])
    _message(
        file, "Signature", [("key", F.TYPE_BYTES), ("sign", F.TYPE_BYTES), ("scheme", F.TYPE_INT32)]
    )
    _message(
        file, "Lifetime", [("exp", F.TYPE_UINT64), ("nbf", F.TYPE_UINT64), ("iat", F.TYPE_UINT64)]
    )
    _message(file, "Target", [("container", ".t.Id"), ("objects", ".t.Id", "repeated")])
    _message(file, "ObjectContext", [("verb", F.TYPE_INT32), ("target", ".t.Target")])
    _message(
        file,
        "ContainerContext",
        [("verb", F.TYPE_INT32), ("wildcard", F.TYPE_BOOL), ("container_id", ".t.Id")],
    )
    _message(
        file,
        "SessionBody",
        [
            ("id", F.TYPE_BYTES),
            ("owner_id", ".t.Id"),
            ("lifetime", ".t.Lifetime"),
            ("session_key", F.TYPE_BYTES),
            ("object", ".t.ObjectContext"),
            ("container", ".t.ContainerContext"),
        ],
    )
    _message(file, "SessionToken", [("body", ".t.SessionBody"), ("signature", ".t.Signature")])
    _message(
        file,
        "Filter",
        [
            ("header_type", F.TYPE_INT32),
            ("match_type", F.TYPE_INT32),
            ("key", F.TYPE_STRING),
            ("value", F.TYPE_STRING),
        ],
    )
    _message(file, "EACLTarget", [("role", F.TYPE_INT32), ("keys", F.TYPE_BYTES, "repeated")])
    _message(
        file,
        "Record",
        [
            ("operation", F.TYPE_INT32),
            ("action", F.TYPE_INT32),
            ("filters", ".t.Filter", "repeated"),
            ("targets", ".t.EACLTarget", "repeated"),
        ],
    )
    _message(
        file,
        "Table",
        [
            ("version", ".t.Version"),
            ("container_id", ".t.Id"),
            ("records", ".t.Record", "repeated"),
        ],
    )
    _message(
        file,
        "BearerBody",
        [
            ("eacl_table", ".t.Table"),
            ("owner_id", ".t.Id"),
            ("lifetime", ".t.Lifetime"),
            ("issuer", ".t.Id"),
        ],
    )
    _message(file, "BearerToken", [("body", ".t.BearerBody"), ("signature", ".t.Signature")])
    # FrostFS (frostfs.v2 acl.BearerToken.Body): the same fields 1-3; field 4 is a bool.
    _message(
        file,
        "FrostFSBearerBody",
        [
            ("eacl_table", ".t.Table"),
            ("owner_id", ".t.Id"),
            ("lifetime", ".t.Lifetime"),
            ("allow_impersonate", F.TYPE_BOOL),
        ],
    )
    _message(
        file,
        "FrostFSBearerToken",
        [("body", ".t.FrostFSBearerBody"), ("signature", ".t.Signature")],
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"t.{name}"))
        for name in ("SessionToken", "SessionBody", "BearerToken", "BearerBody",
                     "FrostFSBearerToken", "FrostFSBearerBody")
    }  # fmt: skip


MESSAGES = build()
