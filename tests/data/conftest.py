"""Fixtures for the data gate: private copies of the example's data, config and suite."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.support.repos import EXAMPLE


def copy_example(target: Path) -> Path:
    """examples/churn without its models: data/, suites/ and mlgate.yaml."""
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("models", ".mlgate", "*.py"))
    return target


@pytest.fixture
def churn_dir(tmp_path: Path) -> Path:
    return copy_example(tmp_path / "churn")


@pytest.fixture(scope="module")
def holdout() -> pd.DataFrame:
    return pd.read_csv(EXAMPLE / "data" / "holdout.csv")
