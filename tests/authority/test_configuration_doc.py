"""docs/configuration.md is complete: every environment variable the settings read is in its
table, and so is every variable of the README's table; the README and docs link only to files
in the repository."""

from __future__ import annotations

import re
from pathlib import Path

from authority.settings import _AUTHORITY_VARIABLES

ROOT = Path(__file__).resolve().parents[2]
_READ_BY_ENV = re.compile(r"\benv(?:\.[a-z_]+)?\(\s*\"([A-Z][A-Z0-9_]*)\"")
_READ_BY_OS = re.compile(
    r"os\.environ(?:\.get)?[\[(]\s*\"([A-Z][A-Z0-9_]*)\"|\"([A-Z][A-Z0-9_]*)\" in os\.environ"
)
_TABLE_NAME = re.compile(r"`([A-Z][A-Z0-9_]*)`")


def _table_variables(text: str) -> set[str]:
    names: set[str] = set()
    for line in text.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names.update(_TABLE_NAME.findall(first_cell))
    return names


def _read_by_the_code() -> set[str]:
    names = {variable for variable, _ in _AUTHORITY_VARIABLES.values()}
    settings = (ROOT / "authority" / "settings.py").read_text()
    names.update(_READ_BY_ENV.findall(settings))
    for path in [*(ROOT / "authority").rglob("*.py"), *(ROOT / "hsm").rglob("*.py")]:
        for found in _READ_BY_OS.findall(path.read_text()):
            names.update(name for name in found if name)
    return names - {"DJANGO_SETTINGS_MODULE"}


def test_every_variable_the_code_reads_is_documented():
    documented = _table_variables((ROOT / "docs" / "configuration.md").read_text())
    missing = _read_by_the_code() - documented
    assert not missing, f"add to docs/configuration.md: {sorted(missing)}"


def test_the_readme_table_is_part_of_the_complete_one():
    documented = _table_variables((ROOT / "docs" / "configuration.md").read_text())
    readme = _table_variables((ROOT / "README.md").read_text())
    assert readme, "the README has a configuration table"
    assert readme <= documented, sorted(readme - documented)


def test_readme_and_docs_link_only_to_files_in_the_repository():
    for document in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        text = document.read_text()
        assert "../shared" not in text, document
        for target in re.findall(r"\]\(([^)#\s]+)", text):
            if re.match(r"[a-z]+://", target) or target.startswith("mailto:"):
                continue
            assert (document.parent / target).exists(), f"{document.name}: {target}"
