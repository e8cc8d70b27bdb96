"""Where the JSON Schemas in the repository's schemas/ folder are found at run time."""

from __future__ import annotations

from pathlib import Path

# server/candor/schemas.py -> the repository root; the package is always installed editable.
_SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas"


def schema_path(name: str) -> Path:
    """The path of the schema file ``name`` (e.g. ``"template.schema.json"``) in schemas/.

    Raises ``ValueError`` for a name that is not a plain file name, so callers cannot
    reach outside the folder.
    """
    if not name or Path(name).name != name or name in {".", ".."}:
        raise ValueError(f"expected a schema file name, got {name!r}")
    return _SCHEMAS_DIR / name
