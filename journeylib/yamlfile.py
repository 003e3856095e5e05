"""Reading the YAML files users write: stage maps and column mappings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from journeylib.errors import DataError


def read_mapping(path: str | Path, what: str, shape: str) -> dict[Any, Any]:
    """A YAML file holding one mapping; a DataError naming the file otherwise.

    ``what`` names the file's role in messages; ``shape`` says what it should hold.

    Examples
    --------
    >>> import tempfile
    >>> file = Path(tempfile.mkdtemp()) / "map.yml"
    >>> _ = file.write_text("user_id: uid\\n")
    >>> read_mapping(file, "mapping", "canonical column: export column pairs")
    {'user_id': 'uid'}
    """
    try:
        loaded = yaml.safe_load(Path(path).read_text("utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise DataError(f"cannot read the {what}: {err}", file=str(path)) from None
    if not isinstance(loaded, dict):
        raise DataError(f"a {what} is {shape}", file=str(path))
    return loaded
