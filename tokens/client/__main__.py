"""`python -m tokens.client` runs `sactl` (the console script installed from pyproject.toml)."""

from tokens.client.cli import main

main()
