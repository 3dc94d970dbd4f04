"""Figures travel through the JSON report unchanged and never touch a result's digest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlgate.figures import Figure, Series, Threshold
from mlgate.report.json_report import read_json, write_json
from mlgate.result import CheckResult, GateResult, Status


def roc() -> Figure:
    return Figure("model.roc", "ROC", "line", [0.0, 0.5, 1.0],
                  [Series("candidate", [0.0, 0.8, 1.0]),
                   Series("champion", [0.0, float("nan"), 1.0], [0.0, 0.6, 1.0],
                          [0.0, 0.9, 1.0])],
                  x_label="false positive rate", y_label="true positive rate",
                  thresholds=[Threshold("chance", 0.5)], priority=10, y_range=(0.0, 1.0),
                  note="higher is better")


def test_figures_round_trip_through_the_json_report(tmp_path: Path) -> None:
    result = GateResult("model", checks=[CheckResult("auc", Status.PASS)], figures=[roc()])
    path = tmp_path / "report.json"
    write_json(path, [result], "gate-model")
    [back] = read_json(path)
    [figure] = back.figures
    assert figure.to_dict() == roc().to_dict()
    assert figure.series[1].values == [0.0, None, 1.0]  # NaN is a gap: JSON has no NaN
    assert json.loads(path.read_text())["gates"][0]["figures"][0]["y_range"] == [0.0, 1.0]


def test_figures_are_not_part_of_the_digest() -> None:
    bare = GateResult("model", checks=[CheckResult("auc", Status.PASS)])
    drawn = GateResult("model", checks=[CheckResult("auc", Status.PASS)], figures=[roc()])
    assert bare.digest() == drawn.digest()


def test_a_malformed_figure_is_refused_where_it_is_made() -> None:
    with pytest.raises(ValueError, match="kind"):
        Figure("x", "x", "pie", ["a"], [Series("s", [1.0])])
    with pytest.raises(ValueError, match="has 1 values for 2 x values"):
        Figure("x", "x", "bar", ["a", "b"], [Series("s", [1.0])])


def test_a_report_with_a_malformed_figure_is_bad_input(tmp_path: Path) -> None:
    from mlgate.errors import InputError

    result = GateResult("model", figures=[roc()])
    path = tmp_path / "report.json"
    write_json(path, [result], "gate-model")
    doc = json.loads(path.read_text())
    doc["gates"][0]["figures"][0]["kind"] = "pie"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="figures"):
        read_json(path)
