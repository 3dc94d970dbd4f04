"""Read a data set (CSV or Parquet) into a pandas DataFrame, turning every failure into InputError.

One module does all reading so that every gate reports a missing, empty or unreadable file the
same way: one line naming the file (or URI), never a pandas traceback. A data set may be a local
file, a URI (``https://``, ``s3://``, ``gs://``, ``az://``; read by :mod:`mlgate.data.remote`)
or a DVC pointer file (``*.dvc``, resolved by :mod:`mlgate.data.dvc`). :func:`read_frame` also
returns the evidence record of exactly the bytes that were parsed, so a gate's report is bound
to them even when the data lives outside the repository.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.data.pointer import Location, file_name, is_dvc, is_uri, label
from mlgate.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".gz", ".bz2", ".zip", ".xz", ".zst")


@dataclass
class Loaded:
    """A data set and the evidence record of the bytes it was parsed from."""

    frame: pd.DataFrame
    input: dict[str, Any]


def read_frame(loc: Location, role: str = "data") -> Loaded:
    """Load a local file, a URI or a DVC pointer, with its evidence record (see
    :mod:`mlgate.provenance`: ``{"path", ...}`` for a file, ``{"uri", ...}`` for a URI, plus
    ``dvc`` for a pointer)."""
    from mlgate.provenance import file_input

    if isinstance(loc, str) and is_uri(loc):
        from mlgate.data.remote import downloaded

        with downloaded(loc, role) as (local, fetched):
            frame = _parse(local, label(loc), role, file_name(loc))
        return Loaded(frame, fetched.evidence())
    path = Path(loc)
    if is_dvc(path):
        from mlgate.data.dvc import read_pointed

        return read_pointed(path, role, _parse)
    return Loaded(load_frame(path, role), file_input(path))


def load_frame(path: str | Path, role: str = "data") -> pd.DataFrame:
    """Load ``path`` as a DataFrame; ``role`` (data, reference, ...) only words the errors.

    Raises InputError for a missing file, a directory, a zero-byte file, a file that does not
    parse, a file without columns and a file with a header but no rows: a gate cannot say
    anything useful about such input, so it is a usage problem (exit 2), not a failed gate.
    A URI or a ``*.dvc`` pointer is read through :func:`read_frame`.
    """
    if (isinstance(path, str) and is_uri(path)) or is_dvc(Path(path)):
        return read_frame(path, role).frame
    file = Path(path)
    if not file.exists():
        raise InputError(f"{role} file not found", file)
    if file.is_dir():
        raise InputError(f"{role} path is a directory, expected a CSV or Parquet file", file)
    return _parse(file, str(file), role, file.name)


def _parse(file: Path, source: str, role: str, name: str) -> pd.DataFrame:
    """Parse the local ``file``; ``source`` names it in errors, ``name``'s suffix picks the
    format (a downloaded copy keeps its URI's file name)."""
    import pandas as pd

    suffix = Path(name).suffix.lower()

    def why(exc: BaseException) -> str:  # never the temporary copy's path, the source's name
        return _first_line(exc).replace(str(file), source)

    if file.stat().st_size == 0:
        raise InputError(f"{role} file is empty (0 bytes)", source)
    try:
        if suffix in PARQUET_SUFFIXES:
            frame = pd.read_parquet(file)
        else:
            sep = "\t" if suffix == ".tsv" else ","
            frame = pd.read_csv(file, sep=sep, low_memory=False)
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"{role} file has no columns (empty CSV)", source) from exc
    except pd.errors.ParserError as exc:
        raise InputError(f"unreadable CSV: {why(exc)}", source) from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"unreadable {role} file: not UTF-8 text ({exc.reason})",
                         source) from exc
    except (OSError, ValueError) as exc:
        kind = "Parquet" if suffix in PARQUET_SUFFIXES else "CSV"
        raise InputError(f"unreadable {kind} file: {why(exc)}", source) from exc
    except Exception as exc:  # pyarrow raises its own exception types for corrupt Parquet
        raise InputError(f"unreadable {role} file: {why(exc)}", source) from exc
    _check_shape(frame, source, role)
    return frame


def _check_shape(frame: pd.DataFrame, file: str, role: str) -> None:
    if frame.shape[1] == 0:
        raise InputError(f"{role} file has no columns", file)
    names = [str(c) for c in frame.columns]
    unnamed = [n for n in names if n.startswith("Unnamed: ")]
    if unnamed and len(unnamed) == len(names):
        raise InputError(f"{role} file has no header row", file)
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise InputError(f"{role} file has duplicate column {duplicated[0]!r}", file)
    if len(frame) == 0:
        raise InputError(f"{role} file has a header but no data rows", file)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
