"""A container target: start an image with the docker SDK, load it, record its CPU and memory.

The image must already be in the local engine: mlgate never pulls (CI runners may have no
registry access, and pulling inside a gate would make its figures depend on the network). The
container is always removed (``remove(force=True)``), also when the health check fails or the
run is interrupted.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

from mlgate.errors import InputError
from mlgate.load.targets import RunningTarget, TargetSpec, join_url, wait_healthy


def docker_client() -> Any:
    import docker
    from docker.errors import DockerException

    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except DockerException as exc:
        raise InputError(f"cannot reach the Docker engine ({exc})", "docker") from exc
    return client


@contextlib.contextmanager
def docker_target(spec: TargetSpec) -> Iterator[RunningTarget]:
    from docker.errors import APIError, ImageNotFound

    assert spec.image
    client = docker_client()
    try:
        image_id = str(client.images.get(spec.image).id)
    except ImageNotFound as exc:
        raise InputError(
            "image not found in the local Docker engine (mlgate does not pull images; "
            "build or load it first)",
            spec.image,
        ) from exc
    except APIError as exc:
        raise InputError(f"cannot inspect image: {exc.explanation or exc}", spec.image) from exc
    port_key = f"{spec.container_port}/tcp"
    container = None
    monitor: StatsMonitor | None = None
    target: RunningTarget | None = None
    try:
        try:
            container = client.containers.run(
                image_id,  # by id: the container runs exactly the image the report records
                command=spec.container_command,
                detach=True,
                ports={port_key: ("127.0.0.1", None)},
                environment=spec.env or None,
                labels={"dev.mlgate.role": "load-test-target"},
            )
        except APIError as exc:
            raise InputError(
                f"cannot start container: {exc.explanation or exc}", spec.image
            ) from exc
        host_port = _published_port(container, port_key, spec)
        base = f"http://127.0.0.1:{host_port}"
        health = join_url(base, spec.health or "/")

        def dead() -> str | None:
            container.reload()
            if container.status in ("exited", "dead"):
                logs = container.logs(tail=3).decode("utf-8", "replace").strip()
                return (
                    f"container exited ({container.attrs['State'].get('ExitCode')}) before "
                    f"{health} answered: {' | '.join(logs.splitlines()) or 'no output'}"
                )
            return None

        wait_healthy(health, spec.startup_timeout, dead, source=None)
        target = RunningTarget(
            join_url(base, spec.path or "/"),
            f"image {spec.image} (container {container.short_id}, port {host_port})",
            container_id=container.id,
            image_id=image_id,
        )
        monitor = StatsMonitor(container)
        monitor.start()
        yield target
    finally:
        if monitor is not None:
            monitor.stop()
            if target is not None:
                target.resources = monitor.summary()
        if container is not None:
            with contextlib.suppress(Exception):
                container.remove(force=True)


def _published_port(container: Any, port_key: str, spec: TargetSpec) -> str:
    deadline = time.monotonic() + 10
    while True:
        container.reload()
        ports = (container.attrs.get("NetworkSettings") or {}).get("Ports") or {}
        bindings = ports.get(port_key)
        if bindings:
            return str(bindings[0]["HostPort"])
        if container.status in ("exited", "dead") or time.monotonic() > deadline:
            logs = container.logs(tail=3).decode("utf-8", "replace").strip()
            raise InputError(
                f"container did not publish port {port_key} (status {container.status}; "
                f"output: {' | '.join(logs.splitlines()) or 'none'})",
                spec.image,
            )
        time.sleep(0.1)


class StatsMonitor:
    """Samples ``container.stats`` every ``interval`` seconds in a background thread.

    CPU percent is computed between consecutive samples (container CPU time over system CPU
    time, times the number of CPUs, as ``docker stats`` does); memory is usage minus the page
    cache (``inactive_file``), again like ``docker stats``.
    """

    def __init__(self, container: Any, interval: float = 0.5) -> None:
        self.container = container
        self.interval = interval
        self.samples: list[dict[str, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="mlgate-stats")
        self._started = time.monotonic()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        previous: dict[str, Any] | None = None
        while not self._stop.is_set():
            try:
                raw = self.container.stats(stream=False, one_shot=True)
            except Exception:  # the container may be going away; the summary says so
                break
            sample = _sample(raw, previous, time.monotonic() - self._started)
            if sample is not None:
                self.samples.append(sample)
            previous = raw
            self._stop.wait(self.interval)

    def summary(self) -> dict[str, Any]:
        cpu = [s["cpu_percent"] for s in self.samples if "cpu_percent" in s]
        mem = [s["memory_mib"] for s in self.samples]
        return {
            "samples": len(self.samples),
            "cpu_percent_avg": round(sum(cpu) / len(cpu), 2) if cpu else None,
            "cpu_percent_max": round(max(cpu), 2) if cpu else None,
            "memory_mib_avg": round(sum(mem) / len(mem), 3) if mem else None,
            "memory_mib_max": round(max(mem), 3) if mem else None,
            "series": self.samples,
        }


def _sample(raw: dict[str, Any], previous: dict[str, Any] | None, t: float) -> dict[str, float]:
    mem_stats = raw.get("memory_stats") or {}
    usage = float(mem_stats.get("usage") or 0)
    extra = mem_stats.get("stats") or {}
    cache = float(extra.get("inactive_file", extra.get("total_inactive_file", 0)) or 0)
    out = {"t_s": round(t, 3), "memory_mib": round(max(usage - cache, 0) / 2**20, 3)}
    if previous is not None:
        cpu, pre = raw.get("cpu_stats") or {}, previous.get("cpu_stats") or {}
        cpu_delta = _total(cpu) - _total(pre)
        sys_delta = float(cpu.get("system_cpu_usage") or 0) - float(
            pre.get("system_cpu_usage") or 0
        )
        cpus = float(cpu.get("online_cpus") or 1)
        if sys_delta > 0 and cpu_delta >= 0:
            out["cpu_percent"] = round(cpu_delta / sys_delta * cpus * 100, 3)
    return out


def _total(cpu: dict[str, Any]) -> float:
    return float((cpu.get("cpu_usage") or {}).get("total_usage") or 0)
