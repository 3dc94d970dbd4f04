"""Config bombs: alias bombs and deep nesting in any YAML or JSON mlgate reads are refused with
exit 2 and one line naming the file, in well under a second, never exit 3 (issue 11)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mlgate.bounded import MAX_DEPTH, MAX_YAML_BYTES, MAX_YAML_NODES, loads_json, parse_yaml
from mlgate.config import load_config
from mlgate.errors import InputError
from mlgate.load.server import BadRequest, parse_rows
from mlgate.report.json_report import write_json
from mlgate.result import CheckResult, GateResult, Status
from tests.support.cli import CliResult, run_mlgate
from tests.support.repos import EXAMPLE, init_repo

DEEP = 5000


def alias_bomb() -> str:
    """The classic "billion laughs": nine levels of nine aliases, ~600 bytes, 10^9 nodes."""
    lines = ["version: 1", "project: churn",
             'lol0: &lol0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 9):
        refs = ",".join([f"*lol{level - 1}"] * 9)
        lines.append(f"lol{level}: &lol{level} [{refs}]")
    text = "\n".join(lines) + "\n"
    assert 500 < len(text.encode()) < 700
    return text


def deep_flow_yaml(depth: int = DEEP) -> str:
    return "version: 1\nproject: churn\ndeep: " + "[" * depth + "]" * depth + "\n"


def deep_block_yaml(depth: int = DEEP) -> str:
    return "version: 1\nproject: churn\ndeep:\n  " + "- " * depth + "x\n"


def deep_json(depth: int = DEEP) -> str:
    return '{"format": "mlgate.report/v1", "gates": ' + "[" * depth + "]" * depth + "}\n"


def deep_json_objects(depth: int = DEEP) -> str:
    return '{"a": ' * depth + "1" + "}" * depth + "\n"


YAML_SHAPES = {"flow": deep_flow_yaml, "block": deep_block_yaml}
JSON_SHAPES = {"arrays": deep_json, "objects": deep_json_objects}


def assert_refused(res: CliResult, file: Path | str, line: int | None = None) -> None:
    """Exit 2 (never 3) with exactly one stderr line that names the file (and the line)."""
    assert res.code == 2, res.stderr
    assert "internal error" not in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    where = f"{file}:{line}:" if line is not None else f"{file}"
    assert res.error_line.startswith(f"mlgate: error: {where}"), res.error_line


@pytest.fixture
def example(tmp_path: Path, clean_github_env: None) -> Path:
    """examples/churn (data, suites, champion model) without its mlgate.yaml."""
    target = tmp_path / "churn"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".mlgate", "*.py"))
    (target / "mlgate.yaml").unlink()
    return target


def good_report(path: Path) -> Path:
    gate = GateResult("model", [CheckResult("auc", Status.PASS, "0.91", 0.91, 0.8)])
    return write_json(path, [gate], "gate-model")


# --- alias bombs -------------------------------------------------------------------------------


@pytest.mark.timeout(20)
def test_alias_bomb_as_mlgate_yaml_is_refused_fast(example: Path) -> None:
    (example / "bomb.yaml").write_text(alias_bomb())
    res = run_mlgate(["run", "--config", "bomb.yaml"], cwd=example)
    assert_refused(res, "bomb.yaml", line=8)  # lol5 would be 531,441 nodes: over the budget
    assert "alias" in res.error_line and f"{MAX_YAML_NODES:,}" in res.error_line


@pytest.mark.timeout(20)
def test_alias_bomb_as_config_of_a_gate_command(example: Path) -> None:
    (example / "bomb.yaml").write_text(alias_bomb())
    res = run_mlgate(["validate-data", "--config", "bomb.yaml", "--data", "data/holdout.csv"],
                     cwd=example)
    assert_refused(res, "bomb.yaml", line=8)


@pytest.mark.timeout(20)
def test_alias_bomb_as_policy_file(example: Path) -> None:
    (example / "policy.yaml").write_text(alias_bomb().replace("version: 1\nproject: churn\n", ""))
    res = run_mlgate(["gate-model", "--model", "models/champion.skops", "--data",
                      "data/holdout.csv", "--target", "churned", "--policy", "policy.yaml"],
                     cwd=example)
    assert_refused(res, example / "policy.yaml", line=6)


# --- deep nesting, YAML --------------------------------------------------------------------------


@pytest.mark.timeout(20)
@pytest.mark.parametrize("shape", YAML_SHAPES)
def test_deep_yaml_mlgate_yaml(example: Path, shape: str) -> None:
    (example / "mlgate.yaml").write_text(YAML_SHAPES[shape]())
    res = run_mlgate(["run"], cwd=example)
    assert_refused(res, "mlgate.yaml", line=3 if shape == "flow" else 4)
    assert f"nested deeper than {MAX_DEPTH} levels" in res.error_line


@pytest.mark.timeout(20)
@pytest.mark.parametrize("shape", YAML_SHAPES)
def test_deep_yaml_contract(example: Path, shape: str) -> None:
    (example / "contract.yaml").write_text(YAML_SHAPES[shape]())
    res = run_mlgate(["validate-data", "--data", "data/holdout.csv", "--contract",
                      "contract.yaml"], cwd=example)
    assert_refused(res, "contract.yaml", line=3 if shape == "flow" else 4)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("shape", YAML_SHAPES)
def test_deep_yaml_policy(example: Path, shape: str) -> None:
    policy = example / "policy.yaml"
    policy.write_text(YAML_SHAPES[shape]())
    res = run_mlgate(["gate-model", "--model", "models/champion.skops", "--data",
                      "data/holdout.csv", "--target", "churned", "--policy", policy],
                     cwd=example)
    assert_refused(res, policy, line=3 if shape == "flow" else 4)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("shape", YAML_SHAPES)
def test_deep_yaml_slo_profile(example: Path, shape: str) -> None:
    profile = example / "profile.yaml"
    profile.write_text(YAML_SHAPES[shape]())
    # Port 9 (discard) is never contacted: the profile is refused before any request.
    res = run_mlgate(["load-test", "--url", "http://127.0.0.1:9/", "--rate", "5",
                      "--profile", profile], cwd=example)
    assert_refused(res, profile, line=3 if shape == "flow" else 4)


# --- deep nesting, JSON --------------------------------------------------------------------------


@pytest.mark.timeout(20)
@pytest.mark.parametrize("shape", JSON_SHAPES)
def test_deep_json_gx_suite(example: Path, shape: str) -> None:
    (example / "suite.json").write_text(JSON_SHAPES[shape]())
    res = run_mlgate(["validate-data", "--data", "data/holdout.csv", "--suite", "suite.json"],
                     cwd=example)
    assert_refused(res, "suite.json")
    assert f"suite JSON nested deeper than {MAX_DEPTH} levels (line 1)" in res.error_line


@pytest.mark.timeout(20)
@pytest.mark.parametrize("shape", JSON_SHAPES)
def test_deep_json_report_results(tmp_path: Path, clean_github_env: None, shape: str) -> None:
    results = tmp_path / "results"
    results.mkdir()
    good_report(results / "a.json")
    (results / "b.json").write_text(JSON_SHAPES[shape]())
    res = run_mlgate(["report", "--results", results, "--summary"])
    assert_refused(res, results / "b.json")
    assert "not a readable JSON report" in res.error_line


@pytest.mark.timeout(60)
@pytest.mark.parametrize("shape", JSON_SHAPES)
def test_deep_json_register_evidence(tmp_path: Path, clean_github_env: None, shape: str) -> None:
    repo = init_repo(tmp_path / "repo")
    (repo / "model.skops").write_bytes(b"not really a model")
    deep = tmp_path / "evidence.json"
    deep.write_text(JSON_SHAPES[shape]())
    res = run_mlgate(["register", "churn", "--artifact", "model.skops", "--evidence",
                      good_report(tmp_path / "good.json"), "--evidence", deep,
                      "--repo", repo])
    assert_refused(res, deep)
    assert "not a readable JSON report" in res.error_line


@pytest.mark.timeout(20)
@pytest.mark.parametrize("shape", JSON_SHAPES)
def test_deep_json_github_event_payload(tmp_path: Path, clean_github_env: None,
                                        shape: str) -> None:
    event = tmp_path / "event.json"
    event.write_text(JSON_SHAPES[shape]())
    env = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_PATH": str(event),
           "GITHUB_EVENT_NAME": "pull_request", "GITHUB_REPOSITORY": "o/r",
           "GITHUB_TOKEN": "t", "GITHUB_API_URL": "http://127.0.0.1:9"}
    res = run_mlgate(["report", "--results", good_report(tmp_path / "r.json"), "--pr-comment"],
                     env=env)
    assert_refused(res, "GITHUB_EVENT_PATH")
    assert str(event) in res.error_line and "nested deeper than" in res.error_line


@pytest.mark.timeout(30)
def test_deep_event_payload_in_a_pickle_pr_check(example: Path) -> None:
    """gate-model reads the run's event (is it untrusted? which base and head?) before
    unpickling: a payload it cannot read stops it, exit 2."""
    event = example / "event.json"
    event.write_text(deep_json_objects())
    (example / "model.joblib").write_bytes(b"never unpickled")
    res = run_mlgate(["gate-model", "--model", "model.joblib", "--allow-pickle", "--data",
                      "data/holdout.csv", "--target", "churned"], cwd=example,
                     env={"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request",
                          "GITHUB_EVENT_PATH": str(event), "MLGATE_ALLOW_PICKLE_FROM_PR": None})
    assert_refused(res, "GITHUB_EVENT_PATH")  # the run's event cannot be read: nothing loads
    assert str(event) in res.error_line and "nested deeper than 64 levels" in res.error_line


def test_deep_request_body_is_a_bad_request() -> None:
    with pytest.raises(BadRequest, match="nested deeper than"):
        parse_rows(("[" * DEEP + "]" * DEEP).encode())


# --- legitimate anchors ------------------------------------------------------------------------

ANCHORED_CONFIG = """\
version: 1
project: churn
pipeline:
  pr: &gates [data, model]
  release: *gates
data:
  path: &holdout data/holdout.csv
  contract:
    columns:
      - &money {name: monthly_charges, dtype: float, nullable: false, min: 0, max: 200}
      - <<: *money
        name: total_charges
        nullable: true
        max: %s
      - {name: customer_id, dtype: string, nullable: false, unique: true}
model:
  data: *holdout
  target: churned
"""


@pytest.mark.timeout(60)
def test_anchors_and_merge_keys_still_load_and_work(example: Path) -> None:
    path = example / "mlgate.yaml"
    path.write_text(ANCHORED_CONFIG % "1000000")
    config = load_config(path)
    assert config.stages("pr") == config.stages("release") == ["data", "model"]
    assert config.raw["model"]["data"] == config.raw["data"]["path"] == "data/holdout.csv"
    merged = config.raw["data"]["contract"]["columns"][1]
    assert merged == {"name": "total_charges", "dtype": "float", "nullable": True, "min": 0,
                      "max": 1000000}
    res = run_mlgate(["validate-data", "--json", "out.json"], cwd=example)
    assert res.code == 0, res.stderr
    report = json.loads((example / "out.json").read_text())
    messages = " ".join(c["name"] + " " + c["message"] for g in report["gates"]
                        for c in g["checks"])
    assert "total_charges" in messages


def test_schema_error_in_a_merged_mapping_names_the_overriding_line(example: Path) -> None:
    """The error points at `max: abc` (line 14), not at the anchor's `max: 200` (line 10)."""
    path = example / "mlgate.yaml"
    path.write_text(ANCHORED_CONFIG % "abc")
    res = run_mlgate(["run"], cwd=example)
    assert_refused(res, "mlgate.yaml", line=14)
    assert "data.contract.columns[1].max" in res.error_line


# --- the limits at their edges -----------------------------------------------------------------


def nested_flow(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def test_yaml_depth_at_the_limit_passes_one_more_fails() -> None:
    data, node = parse_yaml(nested_flow(MAX_DEPTH), "t.yaml")
    assert node is not None
    for _ in range(MAX_DEPTH - 1):
        data = data[0]
    assert data == [1]
    with pytest.raises(InputError, match=f"t.yaml:1: YAML nested deeper than {MAX_DEPTH}"):
        parse_yaml(nested_flow(MAX_DEPTH + 1), "t.yaml")


def test_yaml_depth_counts_mappings_and_block_style() -> None:
    block = "".join("  " * i + "a:\n" for i in range(MAX_DEPTH - 1)) + "  " * MAX_DEPTH + "b: 1\n"
    parse_yaml(block, "ok.yaml")
    deeper = block.replace("b: 1", "b:\n" + "  " * (MAX_DEPTH + 1) + "c: 1")
    with pytest.raises(InputError, match=rf"t.yaml:{MAX_DEPTH + 1}: YAML nested deeper"):
        parse_yaml(deeper, "t.yaml")


def test_yaml_depth_counts_what_an_alias_brings_in() -> None:
    """An alias of a 40-deep list, used 24 levels down, is 64 deep; 25 levels down, too deep."""
    anchor = "&a " + nested_flow(40)
    ok = f"a: {anchor}\nb: " + "[" * 23 + "*a" + "]" * 23 + "\n"  # mapping + 23 + 40 = 64
    data, _ = parse_yaml(ok, "t.yaml")
    inner = data["b"]
    for _ in range(23):
        inner = inner[0]
    assert inner is data["a"]
    bad = f"a: {anchor}\nb: " + "[" * 24 + "*a" + "]" * 24 + "\n"
    with pytest.raises(InputError, match=r"t.yaml:2: .*deeper than 64 levels once alias \*a"):
        parse_yaml(bad, "t.yaml")


def test_alias_chains_cannot_nest_deeper_than_the_limit() -> None:
    """Each anchor 20 deep wrapping the previous: small, few nodes, but 20 x N levels deep."""
    lines = ["a0: &a0 " + nested_flow(20)]
    lines += [f"a{i}: &a{i} " + "[" * 20 + f"*a{i - 1}" + "]" * 20 for i in range(1, 10)]
    with pytest.raises(InputError, match=r"t.yaml:4: .*once alias \*a2"):
        parse_yaml("\n".join(lines) + "\n", "t.yaml")


def budget_document(padding: int) -> str:
    """A list: an anchored list of 999 scalars (1,000 nodes), 98 aliases of it, and padding.

    Expanded: 1 (outer list) + 99 x 1,000 + padding nodes.
    """
    return ("[&a [" + ", ".join(["0"] * 999) + "], " + ", ".join(["*a"] * 98) + ", "
            + ", ".join(["0"] * padding) + "]")


def test_yaml_node_budget_exactly_at_the_limit_passes_one_more_fails() -> None:
    assert MAX_YAML_NODES == 1 + 99 * 1000 + 999
    data, _ = parse_yaml(budget_document(999), "t.yaml")
    assert len(data) == 1 + 98 + 999 and data[98] is data[0]
    with pytest.raises(InputError, match=f"t.yaml:1: YAML aliases expand to more than "
                                         f"{MAX_YAML_NODES:,} nodes"):
        parse_yaml(budget_document(1000), "t.yaml")


def test_recursive_alias_is_refused() -> None:
    with pytest.raises(InputError, match=r"t.yaml:2: alias \*a refers to a node that contains"):
        parse_yaml("a: &a\n  - *a\n", "t.yaml")


def test_yaml_text_size_cap(tmp_path: Path) -> None:
    big = "# padding\n" * (MAX_YAML_BYTES // 10) + "version: 1\n"
    assert len(big) > MAX_YAML_BYTES
    with pytest.raises(InputError, match="more than the limit"):
        parse_yaml(big, "t.yaml")
    path = tmp_path / "mlgate.yaml"
    path.write_text(big)
    res = run_mlgate(["run", "--config", path])
    assert_refused(res, path)
    assert f"{MAX_YAML_BYTES:,}" in res.error_line


@pytest.mark.parametrize(
    ("scalar", "expected"),
    [("2024-13-45", "'2024-13-45' as timestamp"), ("!!int abc", "'abc' as int"),
     ("!!bool maybe", "'maybe' as bool"), ("!!float", "'' as float")],
)
def test_unconvertible_scalars_are_malformed_yaml_not_crashes(
    tmp_path: Path, scalar: str, expected: str
) -> None:
    path = tmp_path / "mlgate.yaml"
    path.write_text(f"version: 1\nproject: churn\n\nresults_dir: {scalar}\n")
    res = run_mlgate(["run", "--config", path])
    assert_refused(res, path, line=4)
    assert "malformed YAML: cannot read " + expected in res.error_line


def test_malformed_yaml_keeps_its_one_line_error() -> None:
    with pytest.raises(InputError, match=r"^t.yaml:3: malformed YAML: expected ',' or ']'"):
        parse_yaml("a: 1\nb: [1, 2\nc: 3\n", "t.yaml")


def nested_json(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_json_depth_at_the_limit_passes_one_more_fails() -> None:
    data = loads_json(nested_json(MAX_DEPTH), "t.json")
    for _ in range(MAX_DEPTH - 1):
        data = data[0]
    assert data == []
    with pytest.raises(InputError) as info:
        loads_json("{\n" + '"a":\n' + nested_json(MAX_DEPTH) + "}", "t.json", "suite JSON")
    assert info.value.one_line() == (
        f"t.json: suite JSON nested deeper than {MAX_DEPTH} levels (line 3); refusing to parse it"
    )


def test_json_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"s": "[{" * 500, "t": ['a "quoted" ]]] \\ {{'] * 3})
    assert loads_json(text, "t.json") == json.loads(text)
    assert loads_json(text.encode("utf-16"), "t.json") == json.loads(text)


def test_malformed_json_is_one_line_naming_line_and_column() -> None:
    with pytest.raises(InputError) as info:
        loads_json('{"a": 1,\n "b": }', "t.json", "event payload")
    assert info.value.one_line() == (
        "t.json: malformed event payload: Expecting value (line 2, column 7)"
    )
    for bad in (b"\xff\xfe\xfd not json", "1" * 5000, '"unterminated [[[', b""):
        with pytest.raises(InputError, match=r"^t.json: malformed JSON"):
            loads_json(bad, "t.json")


@pytest.mark.timeout(10)
def test_json_scan_stays_linear_on_unterminated_escapes() -> None:
    """A string that never closes, full of escaped quotes: one pass, not one per quote."""
    text = "[" * (MAX_DEPTH + 1) + '"' + '\\"' * 200_000
    with pytest.raises(InputError, match="nested deeper than"):
        loads_json(text, "t.json")
