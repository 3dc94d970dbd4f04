"""Hand-made gate results for the report renderers: every figure kind, intervals, thresholds,
gaps, a data profile, inputs and meta, and hostile strings where data can put them.

The gates' own figures and profile are being built in parallel; these results describe the
shapes they promise (:mod:`mlgate.figures`, ``data["profile"]``) so the HTML report is tested
against them now.
"""

from __future__ import annotations

from mlgate.figures import Figure, Series, Threshold
from mlgate.result import Chart, CheckResult, GateResult, Status, Table

HOSTILE = '<script>alert("x")</script>'


def profile() -> dict[str, object]:
    """A data profile as the data gate writes it (one numeric, one categorical column)."""
    numeric = {"mean": 41.2, "std": 12.5, "min": 18.0, "max": 90.0, "null_share": 0.0,
               "q05": 22.0, "q25": 31.0, "q50": 40.0, "q75": 50.0, "q95": 66.0}
    shifted = dict(numeric, mean=48.9, q50=47.0, null_share=0.02)
    return {
        "columns": [
            {"name": "age", "kind": "numeric", "reference": numeric, "current": shifted},
            {"name": f"plan {HOSTILE}", "kind": "categorical",
             "reference": {"null_share": 0.0, "distinct": 3,
                           "top": [{"value": "basic", "share": 0.6}, {"value": "pro", "share": 0.3},
                                   {"value": HOSTILE, "share": 0.1}]},
             "current": {"null_share": 0.01, "distinct": 4,
                         "top": [{"value": "basic", "share": 0.4}, {"value": "pro", "share": 0.4},
                                 {"value": "enterprise", "share": 0.2}]}},
        ],
        "rows": {"reference": 1000, "current": 250},
        "truncated": False,
    }


def figures() -> list[Figure]:
    """One figure of each kind with intervals and thresholds, one with gaps and mathtext-like
    labels, and an empty one."""
    return [
        Figure("sample.metrics", "Candidate vs champion", "bar", ["roc_auc", "log_loss"],
               [Series("candidate", [0.86, 0.41], low=[0.84, 0.39], high=[0.88, 0.43]),
                Series("champion", [0.83, None])],
               y_label="value", thresholds=[Threshold("minimum roc_auc", 0.8)], priority=10,
               note="Bars are point estimates; whiskers a 95% bootstrap interval."),
        Figure("sample.roc", "ROC curve", "line", [0.0, 0.25, 0.5, 0.75, 1.0],
               [Series("candidate", [0.0, 0.7, 0.86, 0.95, 1.0],
                       low=[0.0, 0.65, 0.82, 0.93, 1.0], high=[0.0, 0.75, 0.9, 0.97, 1.0]),
                Series("champion", [0.0, 0.6, None, 0.9, 1.0])],
               x_label="false positive rate", y_label="true positive rate", y_range=(0, 1)),
        Figure("sample.drift", f"Drift per column {HOSTILE}", "bar",
               ["age", f"$\\frac{{1}}{{0}}$ {HOSTILE}", "_private"],
               [Series("psi $x$", [0.05, 0.31, None])],
               thresholds=[Threshold("psi limit", 0.2)], x_label="column"),
        Figure("sample.latency", "Latency over the run", "line", ["0s", "10s", "20s"],
               [Series("p95 ms", [120.0, None, 135.0])],
               thresholds=[Threshold("SLO", 200.0)]),
        Figure("sample.empty", "Nothing measured", "line", [], []),
    ]


def sample_result() -> GateResult:
    """A result carrying every part the HTML report draws."""
    result = GateResult(
        gate="data",
        checks=[
            CheckResult("drift age", Status.PASS, "psi 0.05 within 0.2", 0.05, 0.2),
            CheckResult(f"drift {HOSTILE}", Status.FAIL, f"column {HOSTILE} drifted", 0.31, 0.2),
            CheckResult("rows", Status.WARN, "few rows", None, None),
        ],
        tables=[Table("Columns", ["column", "psi"], [["age", 0.05], [HOSTILE, 0.31]])],
        charts=[Chart("Throughput", ["0s", "10s"], [10.0, 12.5], "rps")],
        figures=figures(),
        data={"profile": profile()},
        summary=f"data gate over {HOSTILE}",
        inputs={"data": {"path": "data/current.csv", "sha256": "sha256:" + "a" * 64},
                "reference": {"path": f"data/{HOSTILE}.csv", "sha256": "sha256:" + "b" * 64}},
        meta={"mlgate": "0.1.0", "commit": "0123456789abcdef0123456789abcdef01234567",
              "dirty": False, "time": "2026-01-01T00:00:00Z"},
        evidence=["evidence/data.json"],
    )
    return result
