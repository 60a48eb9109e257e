"""Writes of the tokens app: session lifecycle, trades, introspection and revocation."""
