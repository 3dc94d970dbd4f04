"""The Spark engine (data.engine: spark): the same reference profile, counts, statistics and
verdicts as the pandas engine, and one-line input errors (exit 2).

One local[2] SparkSession serves every test (marked ``serial``: scripts/test.sh runs them in
its second pass, in one process, so one JVM). Files are cut into many small partitions so that
every pass runs over several tasks, as on real data.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlgate.data.settings import DriftRules
from mlgate.errors import InputError

pytest.importorskip("pyspark", reason="the spark extra (pyspark) is not installed")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java, which is not installed", allow_module_level=True)

pytestmark = [pytest.mark.slow, pytest.mark.serial]
ROOT = Path(__file__).resolve().parents[2]
STATS = ("ks", "ks_pvalue", "ks_resolution", "psi", "js", "chi2", "chi2_pvalue", "n_reference",
         "n_data", "null_share_reference", "null_share_data", "nonfinite_data",
         "outside_reference_range", "categories", "unseen_categories")


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One JVM for the test process: it takes seconds to start."""
    import warnings

    from pyspark.sql import SparkSession

    warnings.filterwarnings("ignore", message="PySpark does not yet", category=FutureWarning)
    local = tmp_path_factory.mktemp("spark-local")
    session = (SparkSession.builder.master("local[2]").appName("mlgate tests")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.sql.files.maxPartitionBytes", str(256 * 1024))
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.local.dir", str(local))
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _by_name(checks: list[Any]) -> dict[str, Any]:
    return {c.name: c for c in checks}


def _same_checks(spark_checks: list[Any], pandas_checks: list[Any]) -> None:
    """Same names, statuses, values and statistics (example rows differ: Spark rows have no
    position)."""
    a, b = _by_name(spark_checks), _by_name(pandas_checks)
    assert list(a) == list(b)
    for name in b:
        assert (a[name].status, a[name].value, a[name].threshold) == \
            (b[name].status, b[name].value, b[name].threshold), name
        for key in STATS:
            assert a[name].details.get(key) == b[name].details.get(key), (name, key)


def _generated(rows: int, seed: int, shift: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cont = rng.normal(shift, 1, rows)
    cont[rng.random(rows) < 0.01] = np.nan
    counts = rng.poisson(3 + shift, rows).astype(np.float64)  # discrete: an exact reference
    heavy = rng.standard_t(2, rows) * 10 + shift
    heavy[:3] = [np.inf, -np.inf, np.nan]
    levels = np.array(["a", "b", "c", "d"] if shift == 0 else ["a", "b", "c", "e"])
    return pd.DataFrame({"cont": cont, "counts": counts, "heavy": heavy,
                         "small": rng.integers(0, 5, rows),
                         "cat": levels[rng.integers(0, 4, rows)],
                         "flag": rng.random(rows) < 0.3 + shift / 10})


@pytest.mark.parametrize("rows", [3_000, 120_000])
def test_generated_data_equal_statistics(spark: Any, tmp_path: Path, rows: int) -> None:
    """The reference profiled once (pandas); Spark counts the current data on its grids:
    every statistic and verdict equals the pandas engine's. 120,000 rows: grids from the
    subsample, and the discrete columns' exact references refined from the subsample that
    Spark fetches by position."""
    from mlgate.data.drift import compare as pandas_compare
    from mlgate.data.reference_profile import build
    from mlgate.data.spark.drift import compare
    from mlgate.data.spark.reading import read_frame

    ref, cur = _generated(rows, 0, 0.0), _generated(rows, 1, 0.3)
    cur.to_parquet(tmp_path / "cur.parquet", row_group_size=20_000)
    profile = build(ref, summaries=False)
    frame = read_frame(spark, tmp_path / "cur.parquet")
    assert frame.rdd.getNumPartitions() > (rows > 100_000)  # several tasks, in file order
    spark_checks, spark_table = compare(profile, frame, DriftRules(), "drift", "r", "c")
    pandas_checks, pandas_table = pandas_compare(profile, cur, DriftRules(), "drift", "r", "c")
    _same_checks(spark_checks, pandas_checks)
    assert spark_table.rows == pandas_table.rows
    checks = _by_name(spark_checks)
    assert checks["drift: heavy"].details["nonfinite_data"] == 2
    assert checks["drift: counts"].details["ks_resolution"] == 0  # exact, refined grid
    assert checks["drift: cat"].details["unseen_categories"] == ["e"]


def test_spark_profile_equals_pandas_profile(spark: Any, tmp_path: Path) -> None:
    """A reference profiled by Spark (as for a Parquet directory) is the pandas engine's
    profile: same subsample positions, same grid, same counts."""
    from mlgate.data.reference_profile import build
    from mlgate.data.spark import profile as spark_profile
    from mlgate.data.spark.reading import read_frame

    ref = _generated(120_000, 0, 0.0)
    ref.to_parquet(tmp_path / "ref.parquet", row_group_size=20_000)
    ours = spark_profile.build(read_frame(spark, tmp_path / "ref.parquet"), "small")
    theirs = build(ref, "small", summaries=False)
    assert ours.rows == theirs.rows and list(ours.columns) == list(theirs.columns)
    for name, col in theirs.columns.items():
        mine = ours.columns[name]
        assert (mine.kind, mine.nulls, mine.counts) == (col.kind, col.nulls, col.counts), name
        if col.numeric is not None:
            assert mine.numeric is not None
            for key in ("edges", "counts", "deciles"):
                assert np.array_equal(getattr(mine.numeric, key), getattr(col.numeric, key)), \
                    (name, key)
            assert (mine.numeric.nulls, mine.numeric.nonfinite) == \
                (col.numeric.nulls, col.numeric.nonfinite)
    assert ours.label is not None and theirs.label is not None
    assert ours.label.classes == theirs.label.classes


def _settings(root: Path, engine: str, **flags: Any) -> Any:
    from mlgate.config import find_config
    from mlgate.data.settings import from_sources

    config = find_config(str(root / "mlgate.yaml"))
    assert config is not None
    return from_sources(config.section("data"), config.resolve, config.where,
                        config_file=config.path, model=config.section("model"), engine=engine,
                        **flags)


def test_gate_on_churn_example_agrees_with_pandas_engine(spark: Any, churn_dir: Path) -> None:
    from mlgate.data.gate import run_data_gate

    results = {engine: run_data_gate(_settings(churn_dir, engine), progress=False)
               for engine in ("pandas", "spark")}
    a, b = results["spark"].checks, results["pandas"].checks
    assert {c.name: c.status for c in a} == {c.name: c.status for c in b}
    drift = [c.name for c in b if c.name.startswith(("drift: ", "skew: ", "label drift: "))]
    assert len(drift) > 10
    _same_checks([c for c in a if c.name in drift], [c for c in b if c.name in drift])
    assert results["spark"].data["rows"] == results["pandas"].data["rows"]
    assert results["spark"].inputs["data"] == results["pandas"].inputs["data"]
    assert results["spark"].data["engine"] == "spark"


@pytest.mark.parametrize("example", ["wine", "diabetes"])
def test_drift_and_skew_match_pandas_engine_on_examples(spark: Any, example: str) -> None:
    """Drift and skew alone (the churn test covers the whole gate): the same profile, the
    same checks."""
    from mlgate.data.drift import compare as pandas_compare
    from mlgate.data.gate import features_only
    from mlgate.data.loading import load_frame
    from mlgate.data.reference_profile import build
    from mlgate.data.spark.drift import compare
    from mlgate.data.spark.reading import read_frame

    settings = _settings(ROOT / "examples" / example, "spark")
    assert settings.reference and settings.training and settings.serving
    for label, ref, cur, rules in (
            ("drift", settings.reference, settings.data, settings.drift),
            ("skew", settings.training, settings.serving, settings.skew)):
        rules = features_only(rules, settings)
        reference = load_frame(ref)
        profile = build(reference.drop(columns=[c for c in rules.exclude
                                                if c in reference.columns]), summaries=False)
        ours, _ = compare(profile, read_frame(spark, cur), rules, label, "r", "c")
        theirs, _ = pandas_compare(profile, load_frame(cur), rules, label, "r", "c")
        _same_checks(ours, theirs)


def test_parquet_directory_reference_is_profiled_by_spark(spark: Any, tmp_path: Path) -> None:
    """Data only Spark reads: a directory of part files as reference and as data."""
    from mlgate.data.drift import compare as pandas_compare
    from mlgate.data.gate import run_data_gate
    from mlgate.data.settings import from_sources

    ref, cur = _generated(4_000, 0, 0.0), _generated(4_000, 1, 1.0)
    for name, frame in (("ref", ref), ("cur", cur)):
        (tmp_path / name).mkdir()
        frame.iloc[:2_000].to_parquet(tmp_path / name / "part-0.parquet")
        frame.iloc[2_000:].to_parquet(tmp_path / name / "part-1.parquet")
    settings = from_sources(None, Path, lambda *k: ".".join(k), data=str(tmp_path / "cur"),
                            reference=str(tmp_path / "ref"), engine="spark")
    result = run_data_gate(settings, progress=False)
    checks = _by_name(result.checks)
    assert checks["drift: cont"].status.value == "warn"
    # Under 50,000 values a grid holds every value, in any order: pandas' statistics on the
    # concatenated parts are the same.
    theirs, _ = pandas_compare(ref, cur, DriftRules(), "drift", "r", "c")
    _same_checks([c for c in result.checks if c.name.startswith("drift: ")], theirs)
    assert result.inputs["reference"]["files"] == 2
    assert result.inputs["data"]["sha256"].startswith("sha256:")


def test_https_data_is_fetched_by_mlgate_then_read_by_spark(spark: Any, tmp_path: Path) -> None:
    """https data is read by mlgate's pointer reader (hashed as for pandas) into a temporary
    file Spark reads; the evidence records the URI and the digest of the bytes."""
    import functools
    import http.server
    import threading

    from mlgate.data.gate import run_data_gate
    from mlgate.data.settings import from_sources

    _generated(500, 0, 0.0).to_csv(tmp_path / "data.csv", index=False)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/data.csv"
        settings = from_sources(None, Path, lambda *k: ".".join(k), data=url,
                                reference=str(tmp_path / "data.csv"), engine="spark")
        result = run_data_gate(settings, progress=False)
    finally:
        server.shutdown()
    assert result.inputs["data"]["uri"] == url
    assert result.inputs["data"]["sha256"] == result.inputs["reference"]["sha256"]
    same = _by_name(result.checks)["drift: cont"]
    assert (same.status.value, same.value) == ("pass", 1.0)  # KS p-value of identical data


def test_spark_schemes_only_with_the_spark_engine() -> None:
    from mlgate.data.settings import from_sources

    where = lambda *k: "mlgate.yaml:" + ".".join(k)  # noqa: E731
    settings = from_sources({"path": "s3a://lake/t/"}, Path, where, engine="spark")
    assert settings.data == "s3a://lake/t/"
    with pytest.raises(InputError, match="read by the Spark engine") as info:
        from_sources({"path": "s3a://lake/t/"}, Path, where)
    assert "\n" not in info.value.one_line()


def test_bad_master_url_names_the_field() -> None:
    from mlgate.data.spark.session import check_master

    with pytest.raises(InputError, match="not a Spark master URL") as info:
        check_master("locl[2]", "mlgate.yaml:data.spark.master")
    assert info.value.one_line().startswith("mlgate.yaml:data.spark.master: ")
    for bad in ("sc://", "sc://host:port", "sc:/host:15002"):
        with pytest.raises(InputError, match="not a Spark master URL"):
            check_master(bad, "x")
    for good in ("local", "local[*]", "local[2]", "spark://h:7077", "sc://h:15002", "yarn"):
        assert check_master(good, "x") == good


def test_missing_pyspark_is_exit_2_with_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from mlgate.data.spark.session import require_pyspark

    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(InputError, match=r"pip install 'mlgate\[spark\]'"):
        require_pyspark()


@pytest.mark.parametrize("content, message", [
    (None, "file not found"),
    (b"", r"empty \(0 bytes\)"),
    (b"not parquet at all", "unreadable Parquet"),
])
def test_unreadable_path_is_one_line_naming_the_file(spark: Any, tmp_path: Path, content: Any,
                                                     message: str) -> None:
    from mlgate.data.spark.reading import read_frame

    path = tmp_path / "data.parquet"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        read_frame(spark, path)
    assert str(path) in info.value.one_line()
    assert "\n" not in info.value.one_line()


def test_header_without_rows_is_exit_2(spark: Any, tmp_path: Path) -> None:
    from mlgate.data.spark.reading import read_frame

    (tmp_path / "empty.csv").write_text("a,b\n")
    with pytest.raises(InputError, match="header but no data rows"):
        read_frame(spark, tmp_path / "empty.csv")


def test_wrong_column_type_fails_contract_and_drift(spark: Any, tmp_path: Path) -> None:
    from mlgate.data.reference_profile import build
    from mlgate.data.spark.contract import dtype_checks
    from mlgate.data.spark.drift import compare
    from mlgate.data.spark.reading import read_frame

    (tmp_path / "cur.csv").write_text("x\n1\ntwo\n3\n")
    cur = read_frame(spark, tmp_path / "cur.csv")
    checks, failed = dtype_checks({"columns": [{"name": "x", "dtype": "int"}]}, cur, "c")
    assert failed == {"x"}
    assert "'two'" in checks[0].message
    drift, _ = compare(build(pd.DataFrame({"x": [1, 2, 3]})), cur, DriftRules(), "drift",
                       "ref.csv", "cur.csv")
    assert _by_name(drift)["drift: x"].status.value == "fail"
    assert _by_name(drift)["drift: x"].details["examples"] == ["two"]


def _cli(churn_dir: Path, capsys: pytest.CaptureFixture[str], spark_section: str) -> str:
    from mlgate.cli import main

    config = churn_dir / "mlgate.yaml"
    config.write_text(config.read_text().replace("data:\n", f"data:\n{spark_section}", 1))
    code = main(["validate-data", "--config", str(config), "--engine", "spark", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert "\n" not in err and "Traceback" not in err
    return err


def test_cli_bad_master_exits_2_naming_the_field(churn_dir: Path, capsys: Any) -> None:
    err = _cli(churn_dir, capsys, "  spark: {master: 'nowhere:1'}\n")
    assert "data.spark.master: not a Spark master URL" in err


def test_cli_unreachable_connect_server_exits_2(churn_dir: Path) -> None:
    """In a fresh process (no active session to reuse): nothing listens at the Spark Connect
    URL, so the gate stops at once with one line naming the field."""
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = churn_dir / "mlgate.yaml"
    config.write_text(config.read_text().replace(
        "data:\n", f"data:\n  engine: spark\n  spark: {{master: 'sc://127.0.0.1:{port}'}}\n", 1))
    done = subprocess.run([sys.executable, "-m", "mlgate", "validate-data", "--config",
                           str(config), "--quiet"], capture_output=True, text=True,
                          timeout=120, cwd=churn_dir,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    err = done.stderr.strip()
    assert done.returncode == 2, err
    assert "\n" not in err and "Traceback" not in err
    assert "data.spark.master: cannot reach Spark Connect server 127.0.0.1" in err
