"""The emulator itself: it must reject what GitHub would reject, or the other tests prove little."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.support.github_emulator import GitHubEmulator
from tests.support.github_emulator.events import SOURCE as EVENTS_SOURCE
from tests.support.github_emulator.events import load, select

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "extract_openapi_subset.py"


def _script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("extract_openapi_subset", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def emulator() -> GitHubEmulator:
    """An emulator whose validation errors the test inspects (and then clears) itself."""
    em = GitHubEmulator().start()
    yield em  # type: ignore[misc]
    em.stop()


def call(em: GitHubEmulator, method: str, path: str, token: str | None = None,
         **kw: object) -> requests.Response:
    headers = {"Authorization": f"token {token or em.token}"}
    return requests.request(method, em.url + path, headers=headers, timeout=5, **kw)  # type: ignore[arg-type]


def test_subset_matches_the_octokit_description() -> None:
    """Re-extract in memory: the committed subset must not drift from @octokit/openapi."""
    module = _script()
    if not module.SOURCE.is_file():
        pytest.skip("node_modules/@octokit/openapi is not installed (run `npm ci`)")
    spec = json.loads(module.SOURCE.read_text(encoding="utf-8"))
    assert module.render(module.extract(spec)) == module.TARGET.read_text(encoding="utf-8")


def test_vendored_events_match_webhooks_examples() -> None:
    if not EVENTS_SOURCE.is_file():
        pytest.skip("node_modules/@octokit/webhooks-examples is not installed (run `npm ci`)")
    chosen = select(json.loads(EVENTS_SOURCE.read_text(encoding="utf-8")))
    for name, payload in chosen.items():
        assert load(name) == payload, name


def test_request_outside_the_spec_is_flagged(emulator: GitHubEmulator) -> None:
    assert call(emulator, "GET", "/repos/octo-org/churn/hooks").status_code == 404
    assert any("no operation" in e for e in emulator.validation_errors)


def test_invalid_body_is_422_and_flagged(emulator: GitHubEmulator) -> None:
    response = call(emulator, "POST", "/repos/octo-org/churn/statuses/abc",
                    json={"state": "green"})
    assert response.status_code == 422
    assert any("'green' is not one of" in e for e in emulator.validation_errors)


def test_unknown_body_field_and_query_param_are_flagged(emulator: GitHubEmulator) -> None:
    call(emulator, "POST", "/repos/octo-org/churn/statuses/abc",
         json={"state": "success", "contxt": "typo"})
    call(emulator, "GET", "/repos/octo-org/churn/deployments", params={"enviroment": "x"})
    errors = "\n".join(emulator.validation_errors)
    assert "unknown field 'contxt'" in errors
    assert "unknown query parameter 'enviroment'" in errors


def test_wrong_path_parameter_type_is_flagged(emulator: GitHubEmulator) -> None:
    call(emulator, "GET", "/repos/octo-org/churn/pulls/abc")
    assert any("expected an integer" in e for e in emulator.validation_errors)


def test_more_than_50_annotations_is_rejected(emulator: GitHubEmulator) -> None:
    notes = [{"path": "a", "start_line": 1, "end_line": 1, "annotation_level": "failure",
              "message": "m"}] * 51
    response = call(emulator, "POST", "/repos/octo-org/churn/check-runs",
                    json={"name": "x", "head_sha": "a" * 40,
                          "output": {"title": "t", "summary": "s", "annotations": notes}})
    assert response.status_code == 422
    assert any("output/annotations: violates maxItems=50" in e
               for e in emulator.validation_errors)


def test_responses_are_validated(emulator: GitHubEmulator) -> None:
    """A response the spec does not allow is caught (here: a broken comment in the state)."""
    emulator.add_pull(1)
    comment = emulator.add_comment(1, "octocat", "hi")
    del comment["user"]
    assert call(emulator, "GET", f"/repos/octo-org/churn/issues/comments/{comment['id']}").ok
    assert any("'user' is a required property" in e for e in emulator.validation_errors)


def test_missing_or_wrong_token_is_401(emulator: GitHubEmulator) -> None:
    no_auth = requests.get(emulator.url + "/repos/octo-org/churn", timeout=5)
    assert no_auth.status_code == 401
    assert call(emulator, "GET", "/repos/octo-org/churn", token="nope").status_code == 401
    assert call(emulator, "GET", "/repos/octo-org/churn").status_code == 200
    assert emulator.validation_errors == []


def test_other_repository_is_404(emulator: GitHubEmulator) -> None:
    assert call(emulator, "GET", "/repos/someone/else").status_code == 404
    assert emulator.validation_errors == []


def test_deployment_refused_while_required_contexts_fail(emulator: GitHubEmulator) -> None:
    call(emulator, "POST", "/repos/octo-org/churn/statuses/" + "a" * 40,
         json={"state": "failure", "context": "ci"})
    refused = call(emulator, "POST", "/repos/octo-org/churn/deployments", json={"ref": "a" * 40})
    assert refused.status_code == 409
    allowed = call(emulator, "POST", "/repos/octo-org/churn/deployments",
                   json={"ref": "a" * 40, "required_contexts": []})
    assert allowed.status_code == 201
    assert emulator.validation_errors == []


def test_fixture_fails_a_test_on_validation_errors(tmp_path: Path) -> None:
    """The ``github_emulator`` fixture turns a request outside the spec into a test error."""
    (tmp_path / "test_bad.py").write_text(
        "import requests\n\n"
        "def test_bad(github_emulator):\n"
        "    requests.get(github_emulator.url + '/repos/octo-org/churn/nothing-here',\n"
        "                 headers={'Authorization': 'Bearer ' + github_emulator.token})\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", os.devnull,
         "-p", "tests.support.github_emulator.fixtures", f"--rootdir={tmp_path}",
         str(tmp_path / "test_bad.py")],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=120,
    )
    assert "1 passed, 1 error" in proc.stdout, proc.stdout + proc.stderr
    assert "outside the OpenAPI spec" in proc.stdout
