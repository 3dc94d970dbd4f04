"""Model-gate policies: presets from checks/policies, policy files, or inline mappings.

Every form is validated against the same schema definition (``$defs/model_policy`` of
``mlgate.schema.json``) so a preset, a file and an inline policy accept exactly the same keys.

Without a policy the gate picks the default preset of the task *and the number of classes*:
absolute ceilings such as ``log_loss <= 0.69`` only mean something for two classes (ln 2 is
the log loss of a coin flip), so targets with more classes get ``multiclass-default``, whose
thresholds are skill scores against a baseline and mean the same for 3 classes or 10.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mlgate.config import load_yaml_file
from mlgate.errors import InputError
from mlgate.model.metrics import METRICS, REGRESSION, Baseline, metric
from mlgate.resources import checks_dir, load_schema

BINARY_PRESET = "classification-default"
MULTICLASS_PRESET = "multiclass-default"
REGRESSION_PRESET = "regression-default"


def default_preset(task: str, n_classes: int) -> str:
    """The preset used when no policy is set: by task, and for classification by class count."""
    if task == REGRESSION:
        return REGRESSION_PRESET
    return MULTICLASS_PRESET if n_classes > 2 else BINARY_PRESET


@dataclass
class SliceRule:
    column: str
    metric: str
    min_size: int = 30
    min: float | None = None
    max: float | None = None
    max_gap: float | None = None


@dataclass
class ChampionRule:
    metrics: list[str]
    margin: float = 0.01
    relative_margin: float | None = None
    confidence: float = 0.95
    resamples: int = 1000
    method: str = "auto"

    def margin_for(self, champion_value: float) -> float:
        if self.relative_margin is not None:
            return abs(champion_value) * self.relative_margin
        return self.margin


@dataclass
class Policy:
    source: str
    thresholds: dict[str, dict[str, float]] = field(default_factory=dict)
    champion: ChampionRule | None = None
    slices: list[SliceRule] = field(default_factory=list)
    budgets: dict[str, float] = field(default_factory=dict)
    # `baseline:` as written (mean / class_shares); resolved against the target by
    # :func:`resolve_baseline`. None: the held-out data's own shares or mean.
    baseline: dict[str, Any] | None = None
    # Every policy file read, the named one first, then each file it `extends`, in order; an
    # inline policy contributes none (the config covers it). The gate records their digests.
    files: list[Path] = field(default_factory=list)
    named_file: bool = False  # whether files[0] is the policy itself (not an inline's parent)

    def metrics_needed(self) -> list[str]:
        names = list(self.thresholds)
        names += self.champion.metrics if self.champion else []
        names += [s.metric for s in self.slices]
        return list(dict.fromkeys(names))

    def check_task(self, task: str) -> None:
        """Every metric named must exist for the task (names the policy on error)."""
        for name in self.metrics_needed():
            metric(name, task, self.source)


def presets() -> list[str]:
    return sorted(p.stem for p in (checks_dir() / "policies").glob("*.yaml"))


def policy_schema() -> dict[str, Any]:
    main = load_schema("mlgate.schema.json")
    return {**main["$defs"]["model_policy"], "$defs": main["$defs"]}


def load_policy(
    spec: Any, task: str, base_dir: Path, where: str, n_classes: int = 2
) -> Policy:
    """Resolve ``spec`` (None, preset name, file path, or mapping) into a :class:`Policy`.

    None means the default preset for the task and ``n_classes`` (:func:`default_preset`).
    """
    if spec is None:
        spec = default_preset(task, n_classes)
    files: list[Path] = []
    raw, source = _raw(spec, base_dir, where, depth=0, files=files)
    policy = _build(raw, source)
    policy.files, policy.named_file = files, isinstance(spec, str)
    policy.check_task(task)
    if policy.baseline:
        wrong = "class_shares" if task == REGRESSION else "mean"
        if wrong in policy.baseline:
            raise InputError(
                f"baseline.{wrong} is not for {task} (use "
                f"{'mean' if task == REGRESSION else 'class_shares'})",
                policy.source,
            )
    return policy


def resolve_baseline(policy: Policy, task: str, classes: np.ndarray | None) -> Baseline | None:
    """The policy's baseline aligned with the target's classes, or None (the held-out data's).

    ``class_shares`` are counts or shares per class label (normalised here); every class of the
    target needs a positive share, since a baseline that gives a class probability 0 has an
    infinite log loss on it, which would make any model look perfect.
    """
    spec = policy.baseline or {}
    source = "policy"
    if task == REGRESSION:
        if "mean" not in spec:
            return None
        mean = float(spec["mean"])
        if not np.isfinite(mean):
            raise InputError(f"baseline.mean must be a finite number, not {mean}", policy.source)
        return Baseline(mean=mean, source=source)
    if "class_shares" not in spec:
        return None
    assert classes is not None
    given = {str(k): float(v) for k, v in spec["class_shares"].items()}
    names = [str(c) for c in classes.tolist()]
    unknown = sorted(set(given) - set(names))
    if unknown:
        hint = ""
        if any(isinstance(k, bool) for k in spec["class_shares"]):
            hint = "; YAML reads yes/no/on/off/true/false as booleans: quote such labels"
        raise InputError(
            f"baseline.class_shares names class(es) {unknown} that are not classes of the "
            f"target ({', '.join(names)}){hint}",
            policy.source,
        )
    if not all(np.isfinite(v) for v in given.values()):
        raise InputError("baseline.class_shares must be finite numbers", policy.source)
    missing = [n for n in names if given.get(n, 0.0) <= 0]
    if missing:
        raise InputError(
            f"baseline.class_shares gives no positive share to class(es) {missing}; every "
            "class of the target needs one",
            policy.source,
        )
    shares = np.array([given[n] for n in names])
    return Baseline(shares=shares / shares.sum(), source=source)


def _raw(
    spec: Any, base_dir: Path, where: str, depth: int, files: list[Path]
) -> tuple[dict[str, Any], str]:
    if depth > 5:
        raise InputError("policy `extends` chain is too deep (a cycle?)", where)
    if isinstance(spec, dict):
        raw, source = dict(spec), where
    elif isinstance(spec, str):
        path = _locate(spec, base_dir, where)
        raw, source = load_yaml_file(path, "policy", policy_schema()), str(path)
        files.append(path)
        base_dir = path.parent
    else:
        raise InputError("policy must be a preset name, a file or a mapping", where)
    parent = raw.pop("extends", None)
    if parent is not None:
        base, _ = _raw(parent, base_dir, source, depth + 1, files)
        base.pop("description", None)
        raw = {**base, **raw}
    return raw, source


def _locate(spec: str, base_dir: Path, where: str) -> Path:
    candidate = Path(spec)
    if not candidate.is_absolute():
        candidate = base_dir / candidate
    if candidate.is_file():
        return candidate
    preset = checks_dir() / "policies" / f"{spec}.yaml"
    if preset.is_file():
        return preset
    raise InputError(
        f"policy {spec!r} is neither a file nor a preset (presets: {', '.join(presets())})", where
    )


def _build(raw: dict[str, Any], source: str) -> Policy:
    champion = None
    if raw.get("champion"):
        c = raw["champion"]
        names = c.get("metric", [])
        names = [names] if isinstance(names, str) else list(names)
        if not names:
            raise InputError("policy champion needs a `metric`", source)
        champion = ChampionRule(
            metrics=names,
            margin=float(c.get("margin", 0.01)),
            relative_margin=c.get("relative_margin"),
            confidence=float(c.get("confidence", 0.95)),
            resamples=int(c.get("resamples", 1000)),
            method=str(c.get("method", "auto")),
        )
    thresholds = {k: dict(v) for k, v in (raw.get("thresholds") or {}).items()}
    for name in thresholds:
        if name not in METRICS:
            raise InputError(f"unknown metric {name!r} in thresholds", source)
    slices = [SliceRule(**s) for s in raw.get("slices") or []]
    baseline = dict(raw["baseline"]) if raw.get("baseline") else None
    return Policy(
        source, thresholds, champion, slices, dict(raw.get("budgets") or {}), baseline
    )
