"""Read a data set (CSV or Parquet) into a pandas DataFrame, turning every failure into InputError.

One module does all reading so that every gate reports a missing, empty or unreadable file the
same way: one line naming the file, never a pandas traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mlgate.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".gz", ".bz2", ".zip", ".xz", ".zst")


def load_frame(path: str | Path, role: str = "data") -> pd.DataFrame:
    """Load ``path`` as a DataFrame; ``role`` (data, reference, ...) only words the errors.

    Raises InputError for a missing file, a directory, a zero-byte file, a file that does not
    parse, a file without columns and a file with a header but no rows: a gate cannot say
    anything useful about such input, so it is a usage problem (exit 2), not a failed gate.
    """
    import pandas as pd

    file = Path(path)
    if not file.exists():
        raise InputError(f"{role} file not found", file)
    if file.is_dir():
        raise InputError(f"{role} path is a directory, expected a CSV or Parquet file", file)
    if file.stat().st_size == 0:
        raise InputError(f"{role} file is empty (0 bytes)", file)
    try:
        if file.suffix.lower() in PARQUET_SUFFIXES:
            frame = pd.read_parquet(file)
        else:
            sep = "\t" if file.suffix.lower() == ".tsv" else ","
            frame = pd.read_csv(file, sep=sep, low_memory=False)
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"{role} file has no columns (empty CSV)", file) from exc
    except pd.errors.ParserError as exc:
        raise InputError(f"unreadable CSV: {_first_line(exc)}", file) from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"unreadable {role} file: not UTF-8 text ({exc.reason})", file) from exc
    except (OSError, ValueError) as exc:
        kind = "Parquet" if file.suffix.lower() in PARQUET_SUFFIXES else "CSV"
        raise InputError(f"unreadable {kind} file: {_first_line(exc)}", file) from exc
    except Exception as exc:  # pyarrow raises its own exception types for corrupt Parquet
        raise InputError(f"unreadable {role} file: {_first_line(exc)}", file) from exc
    _check_shape(frame, file, role)
    return frame


def _check_shape(frame: pd.DataFrame, file: Path, role: str) -> None:
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
