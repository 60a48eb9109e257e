"""Pure-Python NeoFS/FrostFS (`neo.fs.v2`) token codec: no Django import anywhere in this package.

The server, the SDK and the CLI share it. Every malformed input raises `WireError`.
"""

from tokens.wire.errors import WireError

__all__ = ["WireError"]
