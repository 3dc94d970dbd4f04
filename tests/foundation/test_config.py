"""mlgate.yaml loading: every malformed config is exit 2 with one line naming file, line, field."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate.config import load_config
from mlgate.errors import InputError
from tests.support.cli import run_mlgate

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mlgate.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_is_valid() -> None:
    config = load_config(ROOT / "examples" / "churn" / "mlgate.yaml")
    assert config.project == "churn"
    assert config.stages("pr")[0] == "data"
    assert config.resolve("data/holdout.csv").is_file()


def test_defaults_apply_when_pipeline_is_absent(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "version: 1\nproject: churn\n"))
    assert config.stages("pr") == ["data", "model"]
    assert config.results_dir == tmp_path / ".mlgate" / "results"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 1\nproject: churn\npipeline:\n  pr: data\n",
         ":4: pipeline.pr: expected a list, got 'data'"),
        ("version: 1\nproject: churn\npipeline:\n  pr: [data, deploy]\n",
         "pipeline.pr[1]: expected one of"),
        ("version: 2\nproject: churn\n", ":1: version: expected 1, got 2"),
        ("version: 1\n", "(top level): 'project' is required"),
        ("version: 1\nproject: churn\nmodle: {}\n", "'modle' was unexpected"),
        ("version: 1\nproject: Churn Model\n", "project: 'Churn Model' does not match"),
        ("version: 1\nproject: churn\ngithub:\n  pr_comment: maybe\n",
         ":4: github.pr_comment: expected true or false, got 'maybe'"),
    ],
)
def test_schema_errors_name_line_and_field(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_config(path)
    line = info.value.one_line()
    assert line.startswith(str(path))
    assert expected in line
    assert "\n" not in line


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "version: 1\nproject: churn\ndata:\n  path: [unclosed\n")
    with pytest.raises(InputError, match=r"mlgate\.yaml:\d+: malformed YAML"):
        load_config(path)


def test_empty_and_missing_config(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="config file is empty"):
        load_config(write(tmp_path, "# nothing\n"))
    with pytest.raises(InputError, match="config file not found"):
        load_config(tmp_path / "absent.yaml")


def test_cli_malformed_config_exits_2_with_one_line(tmp_path: Path) -> None:
    write(tmp_path, "version: 1\nproject: churn\npipeline:\n  pr: [data, data]\n")
    result = run_mlgate(["run", "--stage", "pr"], cwd=tmp_path)
    assert result.code == 2
    assert result.error_line.startswith("mlgate: error: mlgate.yaml:4: pipeline.pr")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
