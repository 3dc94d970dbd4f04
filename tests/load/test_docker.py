"""Container targets against the real Docker engine with a busybox httpd image."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import run_mlgate

# Serial: they count the engine's mlgate containers before and after, so no other test may start
# one meanwhile (scripts/test.sh runs `serial` tests after the parallel pass, one at a time).
pytestmark = [pytest.mark.docker, pytest.mark.serial]


def _our_containers() -> list[str]:
    import docker

    client = docker.from_env()
    found = client.containers.list(all=True, filters={"label": "dev.mlgate.role"})
    return [c.id for c in found]


def test_image_target_records_cpu_and_memory_and_is_removed(
    busybox_image: str, tmp_path: Path
) -> None:
    before = set(_our_containers())
    report = tmp_path / "r.json"
    res = run_mlgate(["load-test", "--image", busybox_image, "--container-port", "8080",
                      "--health", "/health", "--rate", "30", "--duration", "2s",
                      "--slo", "p99<1s", "--json", report])
    assert res.code == 0, res.stdout + res.stderr
    gate = json.loads(report.read_text())["gates"][0]
    load = gate["data"]["load"]
    assert load["requests"] == 60 and load["errors"] == 0
    resources = load["resources"]
    assert resources["samples"] >= 2
    assert resources["memory_mib_max"] > 0
    assert resources["cpu_percent_max"] is not None and resources["cpu_percent_max"] >= 0
    assert any(t["title"].startswith("Container resources") for t in gate["tables"])
    container_id = load["target"]["container_id"]
    assert container_id and container_id not in _our_containers()
    assert set(_our_containers()) <= before
    # Evidence: the image by name and by the id of what ran (no file was read).
    import docker

    image_id = docker.from_env().images.get(busybox_image).id
    assert image_id.startswith("sha256:")
    assert gate["inputs"] == {"target": {"image": busybox_image, "id": image_id}}


def test_nonexistent_image_is_exit_2_naming_it() -> None:
    from tests.load.conftest import _docker_reason

    reason = _docker_reason()
    if reason:
        pytest.skip(reason)
    res = run_mlgate(["load-test", "--image", "mlgate-no-such-image:0.0", "--rate", "5"])
    assert res.code == 2
    assert res.error_line.startswith("mlgate: error: mlgate-no-such-image:0.0: image not found")


def test_container_that_never_gets_healthy_is_removed(busybox_image: str) -> None:
    before = set(_our_containers())
    res = run_mlgate(["load-test", "--image", busybox_image, "--health", "/missing",
                      "--startup-timeout", "2s", "--rate", "5"])
    assert res.code == 2
    assert "health check did not pass" in res.error_line and "/missing" in res.error_line
    assert set(_our_containers()) <= before
