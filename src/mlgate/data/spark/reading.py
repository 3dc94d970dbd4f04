"""Read CSV and Parquet straight into Spark DataFrames (never through pandas).

Where the data may live (:data:`~mlgate.data.pointer.Location`):

* a local path: one file, or a directory of Parquet (or CSV) part files as Spark and most lakes
  write them; recorded by sha256 (a directory by the digest of its parts' digests);
* a URI of a scheme Spark reads itself (``s3a://``, ``hdfs://``, ``abfss://``, ...,
  :data:`~mlgate.data.pointer.SPARK_SCHEMES`): handed to Spark as it is, credentials and
  endpoints from Spark's own configuration (``data.spark.config``); recorded by URI only, as
  mlgate never sees its bytes;
* ``https://``, ``s3://``, ``gs://``, ``az://`` and DVC pointers: fetched by mlgate's pointer
  reader (:mod:`mlgate.data.remote`, :mod:`mlgate.data.dvc`, checked and hashed as for the
  pandas engine) into a temporary file that lives as long as the gate run (``keep``), then read
  by Spark. Only a local or ``local[*]`` Spark can read that file: with a cluster, use a URI
  Spark reads itself.

Every failure becomes one InputError line naming the file, as with the pandas engine
(:mod:`mlgate.data.loading`), so the engine choice does not change how errors read.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.data.loading import PARQUET_SUFFIXES
from mlgate.data.pointer import Location, file_name, is_dvc, shown
from mlgate.errors import InputError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# Compressed CSV Spark decompresses itself (by Hadoop codec); zip and zstd archives it cannot.
_UNSUPPORTED = (".zip",)


def data_format(path: Path) -> str:
    """``parquet`` or ``csv``: by suffix for a file, by the part files for a directory."""
    if path.is_dir():
        parts = [p for p in path.rglob("*") if p.is_file() and not p.name.startswith(("_", "."))]
        if not parts:
            raise InputError("directory holds no data files", path)
        if all(p.suffix.lower() in PARQUET_SUFFIXES for p in parts):
            return "parquet"
        if all(p.suffix.lower() in (".csv", ".tsv", ".gz", ".bz2") for p in parts):
            return "csv"
        kinds = sorted({p.suffix or p.name for p in parts})[:5]
        raise InputError(f"directory mixes file kinds ({', '.join(kinds)}); the Spark engine "
                         f"reads a directory of Parquet or of CSV files", path)
    return "parquet" if path.suffix.lower() in PARQUET_SUFFIXES else "csv"


def read(spark: SparkSession, loc: Location, role: str, keep: contextlib.ExitStack
         ) -> tuple[DataFrame, dict[str, Any]]:
    """A data set as a Spark DataFrame and the evidence record of what was read (see the
    module docstring); ``keep`` owns the temporary copies of fetched data."""
    from mlgate.data.pointer import SPARK_SCHEMES

    if isinstance(loc, str):
        scheme = loc.split("://", 1)[0].lower()
        if scheme in SPARK_SCHEMES:
            return (_read_uri(spark, loc, role),
                    {"uri": shown(loc), "read_by": "spark", "sha256": None})
        from mlgate.data.remote import downloaded

        local, fetched = keep.enter_context(downloaded(loc, role))
        return _parse(spark, local, shown(loc), role, file_name(loc)), fetched.evidence()
    if is_dvc(loc):
        from mlgate.data.dvc import read_pointed

        def parse(file: Path, source: str, role: str, name: str) -> DataFrame:
            return _parse(spark, _kept(file, name, keep), source, role, name)

        loaded = read_pointed(loc, role, parse)
        return loaded.frame, loaded.input
    frame = read_frame(spark, loc, role)
    return frame, data_input(loc)


def _kept(file: Path, name: str, keep: contextlib.ExitStack) -> Path:
    """A copy of ``file`` (a hard link when possible) that outlives the reader's own
    temporary file: Spark reads lazily, long after the reader has cleaned up."""
    home = Path(keep.enter_context(tempfile.TemporaryDirectory(prefix="mlgate-spark-")))
    target = home / name
    try:
        os.link(file, target)
    except OSError:
        shutil.copyfile(file, target)
    return target


def _parse(spark: SparkSession, file: Path, source: str, role: str, name: str) -> DataFrame:
    """A fetched copy (named ``name``, whose suffix picks the format), named in errors as its
    ``source``."""
    if file.stat().st_size == 0:
        raise InputError(f"{role} file is empty (0 bytes)", source)
    try:
        return read_frame(spark, file, role)
    except InputError as exc:
        raise InputError(exc.message.replace(str(file), source), source) from exc


def _read_uri(spark: SparkSession, uri: str, role: str) -> DataFrame:
    """A URI Spark reads itself (Parquet unless its name says CSV)."""
    csv = Path(file_name(uri)).suffix.lower() in (".csv", ".tsv", ".gz", ".bz2")
    try:
        frame = (spark.read.csv(uri, header=True, inferSchema=True) if csv
                 else spark.read.parquet(uri))
        empty = frame.limit(1).count() == 0
    except Exception as exc:  # Spark's and the filesystem's own exception types
        raise InputError(f"unreadable {role} data: {first_line(exc)}", shown(uri)) from exc
    if empty:
        raise InputError(f"{role} data has no rows", shown(uri))
    return frame


def data_input(path: Path) -> dict[str, Any]:
    """A file's entry (:func:`mlgate.provenance.file_input`), or a directory's: the sha256 of
    its listing of part files with their own sha256, and the total size."""
    from mlgate.provenance import file_input, repo_path

    if not path.is_dir():
        return file_input(path)
    digest = hashlib.sha256()
    size = 0
    parts = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    for part in parts:
        entry = file_input(part)
        size += entry["size"]
        digest.update(f"{part.relative_to(path).as_posix()}\0{entry['sha256']}\n".encode())
    return {"path": repo_path(path), "sha256": "sha256:" + digest.hexdigest(), "size": size,
            "files": len(parts)}


def read_frame(spark: SparkSession, path: str | Path, role: str = "data") -> DataFrame:
    """A local file or directory as a Spark DataFrame; ``role`` (data, reference, ...) only
    words the errors.

    Raises InputError for what the pandas engine rejects too: a missing or zero-byte file, a
    file Spark cannot parse, no columns, duplicate columns and a header without rows.
    """
    file = Path(path)
    if not file.exists():
        raise InputError(f"{role} file not found", file)
    if file.is_file() and file.stat().st_size == 0:
        raise InputError(f"{role} file is empty (0 bytes)", file)
    if file.suffix.lower() in _UNSUPPORTED:
        raise InputError(f"the Spark engine cannot read {file.suffix} archives; unpack the "
                         f"CSV or use data.engine: pandas", file)
    kind = data_format(file)
    try:
        if kind == "parquet":
            frame = spark.read.parquet(str(file))
        else:
            sep = "\t" if file.suffix.lower() == ".tsv" else ","
            # inferSchema costs one extra pass over CSV; Parquet carries its schema.
            frame = spark.read.csv(str(file), header=True, inferSchema=True, sep=sep,
                                   enforceSchema=False, mode="PERMISSIVE")
        names = frame.columns
        empty = not names or frame.limit(1).count() == 0
    except Exception as exc:  # AnalysisException, Py4JJavaError: Spark's own types
        raise InputError(f"unreadable {kind.capitalize() if kind == 'parquet' else 'CSV'} "
                         f"{role} file: {first_line(exc)}", file) from exc
    if not names:
        raise InputError(f"{role} file has no columns", file)
    lowered = [n.lower() for n in names]
    duplicated = sorted({n for n in names if lowered.count(n.lower()) > 1})
    if duplicated:
        raise InputError(f"{role} file has duplicate column {duplicated[0]!r}", file)
    if empty:
        raise InputError(f"{role} file has a header but no data rows", file)
    return frame


def first_line(exc: BaseException) -> str:
    """The first meaningful line of a Spark/Py4J error (they run to hundreds of lines)."""
    for line in str(exc).strip().splitlines():
        text = line.strip()
        if text and not text.startswith(("An error occurred while calling", "Traceback")):
            return text[:300]
    return type(exc).__name__
