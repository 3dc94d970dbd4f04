"""Regenerate the generated parts of README.md (config reference) from their sources.

Run `.venv/bin/python scripts/update_docs.py` after changing checks/schema/mlgate.schema.json;
`tests/foundation/test_docs.py` fails while README.md is out of date.
"""

from __future__ import annotations

from pathlib import Path

from mlgate.config_reference import render_reference, splice

README = Path(__file__).resolve().parents[1] / "README.md"


def updated_readme(text: str) -> str:
    return splice(text, render_reference())


def main() -> None:
    text = README.read_text(encoding="utf-8")
    new = updated_readme(text)
    if new != text:
        README.write_text(new, encoding="utf-8")
        print("README.md updated")
    else:
        print("README.md is up to date")


if __name__ == "__main__":
    main()
