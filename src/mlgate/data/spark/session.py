"""One SparkSession for the gate: local mode by default, an existing cluster or a Spark
Connect server when ``data.spark.master`` says so.

pyspark is an optional extra: without it the user gets one line (exit 2) saying which extra to
install, not an ImportError traceback. The master URL is checked before any JVM starts, so a
typo costs no waiting and names the field it came from.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from typing import TYPE_CHECKING, Any

from mlgate.errors import InputError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[*]"
CONNECT_PORT = 15002  # Spark Connect's default
CONNECT_TIMEOUT_S = 10.0
INSTALL_HINT = "the Spark engine needs pyspark: pip install 'mlgate[spark]'"
# Masters Spark itself accepts (spark-submit's --master forms) and Spark Connect's sc:// URLs.
_MASTER = re.compile(
    r"^(local(\[(\*|[1-9]\d*)(,\s*[1-9]\d*)?\])?"
    r"|local-cluster\[\d+,\s*\d+,\s*\d+\]"
    r"|spark://[^\s/:]+(:\d+)?(,[^\s/:]+(:\d+)?)*"
    r"|k8s://\S+|yarn|mesos://\S+)$")
_CONNECT = re.compile(r"^sc://[^\s/:]+(:\d+)?(/;\S*)?$")
# Defaults that suit a gate run: no UI port to collide with, quiet Arrow transfers.
_DEFAULTS = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",  # the target column's toPandas
}


def require_pyspark(where: str = "data.engine") -> None:
    """Fail with the install hint (exit 2) when pyspark is not importable."""
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise InputError(INSTALL_HINT, where) from exc


def check_master(master: str, where: str) -> str:
    """``master`` if Spark or Spark Connect would accept its form; else InputError at ``where``."""
    text = master.strip()
    if _MASTER.match(text) or _CONNECT.match(text):
        return text
    raise InputError(
        f"not a Spark master URL: {master!r} (use local[*], local[N], spark://HOST:PORT, "
        f"yarn, k8s://..., or a Spark Connect URL sc://HOST:PORT)", where)


def get_session(master: str | None = None, config: dict[str, Any] | None = None,
                where: str = "data.spark.master") -> SparkSession:
    """The active SparkSession when there is one (tests, notebooks), else a new one.

    An active session wins over ``master``: a JVM cannot host two, and whoever started it
    (a test fixture, a notebook, spark-submit) chose its cluster deliberately.
    """
    require_pyspark()
    url = check_master(master or DEFAULT_MASTER, where)
    # pyspark 4 warns on each of its pandas-facing imports that pandas 3 is not yet supported;
    # mlgate hands Spark no pandas objects, so the line says nothing to a gate's user.
    warnings.filterwarnings("ignore", message="PySpark does not yet", category=FutureWarning)
    from pyspark.sql import SparkSession

    active = _active()
    if active is not None:
        return active
    if url.startswith("sc://"):
        _reachable(url, where)
    builder: Any = SparkSession.builder.appName("mlgate data gate")
    builder = builder.remote(url) if url.startswith("sc://") else builder.master(url)
    if url.startswith("local"):
        # mlgate's own passes run no Python on the data, but a GX expectation may; pyspark
        # would start its workers with whatever ``python3`` is on PATH.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    for key, value in {**_DEFAULTS, **(config or {})}.items():
        builder = builder.config(str(key), str(value))
    try:
        session: SparkSession = builder.getOrCreate()
    except ImportError as exc:  # Spark Connect needs grpcio & co (pyspark[connect])
        raise InputError(f"Spark Connect needs more packages: {exc}; "
                         f"pip install 'mlgate[spark]'", where) from exc
    except Exception as exc:  # JVM missing, cluster unreachable: Py4J/Java errors
        first = str(exc).strip().splitlines()
        raise InputError(f"cannot start Spark with master {url!r}: "
                         f"{first[0] if first else type(exc).__name__}", where) from exc
    if not url.startswith("sc://"):  # a Connect client has no SparkContext
        session.sparkContext.setLogLevel("ERROR")
    return session


def _active() -> SparkSession | None:
    from pyspark.sql import SparkSession

    return SparkSession.getActiveSession()


def _reachable(url: str, where: str) -> None:
    """Fail fast when nothing listens at a Spark Connect URL: the client itself retries an
    unavailable server with backoff for minutes before it gives up."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url.split(";", 1)[0].rstrip("/"))
    host, port = parts.hostname or "", parts.port or CONNECT_PORT
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise InputError(f"cannot reach Spark Connect server {host}:{port}: "
                         f"{exc.strerror or type(exc).__name__}", where) from exc
