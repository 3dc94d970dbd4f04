"""The harness's expression evaluator agrees with GitHub's documented semantics."""

from __future__ import annotations

import pytest

from tests.actions.expressions import (
    ExpressionError,
    Status,
    condition,
    evaluate,
    interpolate,
)

CTX = {
    "inputs": {"data": "data/x.csv", "empty": "", "working-directory": "sub", "flag": True},
    "steps": {"gate": {"outputs": {"status": "fail", "exit-code": "1"}, "outcome": "failure"}},
    "github": {"event_name": "pull_request", "event": {"pull_request": {"number": 7}},
               "token": "t0k"},
    "env": {"NAME": "value"},
    "runner": {"temp": "/tmp/r"},
}


@pytest.mark.parametrize(("expression", "expected"), [
    ("inputs.data", "data/x.csv"),
    ("inputs.working-directory", "sub"),
    ("INPUTS.Data", "data/x.csv"),
    ("inputs.missing", None),
    ("steps.gate.outputs.exit-code", "1"),
    ("steps.nothing.outputs.status", None),
    ("github.event.pull_request.number", 7),
    ("github['event_name']", "pull_request"),
    ("inputs.empty || 'default'", "default"),
    ("inputs.data || 'default'", "data/x.csv"),
    ("inputs.flag && 'yes' || 'no'", "yes"),
    ("inputs.empty && 'yes' || 'no'", "no"),
    ("steps.gate.outputs.status == 'FAIL'", True),
    ("steps.gate.outputs.status != 'pass'", True),
    ("steps.gate.outputs.exit-code == 1", True),
    ("!inputs.empty", True),
    ("!(inputs.data == 'data/x.csv')", False),
    ("null == 0", True),
    ("'' == false", True),
    ("1 < 2 && 'b' > 'a'", True),
    ("format('{0}-{1} {{x}}', 'a', 7)", "a-7 {x}"),
    ("contains('Hello World', 'world')", True),
    ("contains(fromJSON('[\"a\", \"b\"]'), 'B')", True),
    ("startsWith(inputs.data, 'DATA/')", True),
    ("endsWith(inputs.data, '.csv')", True),
    ("join(fromJSON('[1, 2]'), '+')", "1+2"),
    ("'it''s'", "it's"),
    ("0x10 == 16", True),
])
def test_evaluate(expression: str, expected: object) -> None:
    assert evaluate(expression, CTX) == expected


def test_interpolate_keeps_type_of_a_single_expression_and_renders_text() -> None:
    assert interpolate("${{ inputs.flag }}", CTX) is True
    assert interpolate("dir=${{ inputs.working-directory }}/${{ runner.temp }}", CTX) == (
        "dir=sub//tmp/r"
    )
    assert interpolate({"a": ["${{ env.NAME }}"]}, CTX) == {"a": ["value"]}
    assert interpolate("x ${{ inputs.flag }} ${{ inputs.missing }}.", CTX) == "x true ."


def test_conditions_and_status_functions() -> None:
    ok, failed = Status(), Status(failed=True)
    assert condition(None, CTX, ok) is True
    assert condition(None, CTX, failed) is False
    assert condition("inputs.flag", CTX, failed) is False  # implicit success() &&
    assert condition("always() && inputs.flag", CTX, failed) is True
    assert condition("failure()", CTX, failed) is True
    assert condition("failure()", CTX, ok) is False
    assert condition("${{ github.event_name == 'pull_request' }}", CTX, ok) is True
    assert condition(False, CTX, ok) is False


@pytest.mark.parametrize("bad", ["inputs.", "unknown.x", "nosuch()", "'open", "a b"])
def test_errors(bad: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(bad, CTX)
