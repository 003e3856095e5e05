"""Reading the YAML files users write: stage maps and column mappings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from journeylib.core.errors import DataError


def read_yaml(path: str | Path, what: str) -> Any:
    r"""A YAML file's content; a DataError naming the file when it cannot be read.

    Examples
    --------
    >>> import tempfile
    >>> file = Path(tempfile.mkdtemp()) / "rules.yml"
    >>> _ = file.write_bytes(b"- channel: Caf\xe9\n")
    >>> read_yaml(file, "channel rules")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    journeylib.core.errors.DataError: ...rules.yml: the channel rules file is not UTF-8 text (byte 0xe9 at position 14); save the file as UTF-8
    """
    try:
        return yaml.safe_load(Path(path).read_text("utf-8"))
    except UnicodeDecodeError as err:
        raise DataError(
            f"the {what} file is not UTF-8 text (byte 0x{err.object[err.start]:02x} at position"
            f" {err.start}); save the file as UTF-8",
            file=str(path),
        ) from None
    except (OSError, yaml.YAMLError) as err:
        raise DataError(f"cannot read the {what}: {err}", file=str(path)) from None


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
    loaded = read_yaml(path, what)
    if not isinstance(loaded, dict):
        raise DataError(f"a {what} is {shape}", file=str(path))
    return loaded
