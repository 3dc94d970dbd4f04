"""What the data gate should do, merged from mlgate.yaml's ``data:`` section and the flags.

Flags win over the config; with no config the flags alone describe the run. Every path is
resolved here (relative to the config file's directory when it came from the config), so the
gate itself never has to know where a setting came from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mlgate.data.pointer import Location, shown
from mlgate.data.pointer import location as pointer_location
from mlgate.errors import InputError

NUMERIC_METHODS = ("auto", "ks", "ks_stat", "psi", "js")
CATEGORICAL_METHODS = ("auto", "chi2", "psi", "js")
# Default thresholds per method; p-value methods drift when p < threshold, others when the
# statistic is > threshold.
DEFAULT_THRESHOLDS = {"ks": 0.05, "chi2": 0.05, "ks_stat": 0.1, "psi": 0.2, "js": 0.1}
P_VALUE_METHODS = ("ks", "chi2")
SMALL_SAMPLE = 1000
MAX_DRIFT_SHARE = 0.5
# Label drift: the methods a target may be judged by, and which kind of target each implies.
LABEL_METHODS = ("auto", "chi2", "ks", "ks_stat", "psi", "js")
LABEL_KINDS = ("auto", "classes", "numeric")
CLASS_ONLY_METHODS = ("chi2",)
NUMERIC_ONLY_METHODS = ("ks", "ks_stat")
# A numeric target with at most this many distinct values (in the reference) is a class label,
# as the model gate infers a classification task (mlgate.model.data.infer_task).
MAX_CLASSES = 20


@dataclass
class ColumnRule:
    method: str | None = None
    threshold: float | None = None
    severity: str | None = None


@dataclass
class DriftRules:
    """Thresholds for drift (reference vs data) or skew (training vs serving)."""

    numeric_method: str = "auto"
    numeric_threshold: float | None = None
    categorical_method: str = "auto"
    categorical_threshold: float | None = None
    columns: dict[str, ColumnRule] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    max_drift_share: float = MAX_DRIFT_SHARE
    small_sample: int = SMALL_SAMPLE
    severity: str = "warn"
    where: str = "data.drift"  # the config section these came from, for messages

    @classmethod
    def from_config(cls, raw: dict[str, Any], base: DriftRules | None = None) -> DriftRules:
        """Build from a ``drift:``/``skew:`` mapping; keys not given fall back to ``base``."""
        rules = DriftRules() if base is None else DriftRules(**vars(base))
        numeric = raw.get("numeric") or {}
        categorical = raw.get("categorical") or {}
        if "method" in numeric:
            rules.numeric_method = str(numeric["method"])
            rules.numeric_threshold = None
        if "threshold" in numeric:
            rules.numeric_threshold = float(numeric["threshold"])
        if "method" in categorical:
            rules.categorical_method = str(categorical["method"])
            rules.categorical_threshold = None
        if "threshold" in categorical:
            rules.categorical_threshold = float(categorical["threshold"])
        if "columns" in raw:
            rules.columns = {
                str(name): ColumnRule(
                    method=(spec or {}).get("method"),
                    threshold=(spec or {}).get("threshold"),
                    severity=(spec or {}).get("severity"),
                )
                for name, spec in (raw.get("columns") or {}).items()
            }
        if "exclude" in raw:
            rules.exclude = [str(c) for c in raw.get("exclude") or []]
        for key in ("max_drift_share", "small_sample", "severity"):
            if key in raw:
                setattr(rules, key, type(getattr(rules, key))(raw[key]))
        return rules


@dataclass
class LabelRules:
    """How the target's distribution is compared (``data.label_drift``).

    A target is judged apart from the features: its shift is a change in what the model is
    asked to predict (base rates, class balance), not in its inputs, so it gets its own method,
    threshold and severity. ``where`` names the config section in messages.
    """

    enabled: bool = True
    method: str = "auto"
    threshold: float | None = None
    severity: str = "warn"
    kind: str = "auto"  # auto | classes | numeric
    small_sample: int | None = None  # None: data.drift.small_sample
    task: str | None = None  # model.task (classification | regression), a hint for ``auto``
    where: str = "data.label_drift"
    task_where: str = "model.task"

    @classmethod
    def from_config(cls, raw: dict[str, Any], where: str, task: str | None = None,
                    task_where: str = "model.task") -> LabelRules:
        """Build from a (schema-validated) ``label_drift:`` mapping; reject a method that
        contradicts the configured kind (``chi2`` needs classes, ``ks`` numbers)."""
        rules = cls(where=where, task=task, task_where=task_where)
        if "enabled" in raw:
            rules.enabled = bool(raw["enabled"])
        if "method" in raw:
            rules.method = str(raw["method"])
        if raw.get("threshold") is not None:
            rules.threshold = float(raw["threshold"])
        if "severity" in raw:
            rules.severity = str(raw["severity"])
        if "kind" in raw:
            rules.kind = str(raw["kind"])
        if raw.get("small_sample") is not None:
            rules.small_sample = int(raw["small_sample"])
        implied = rules.implied_kind()
        if rules.kind != "auto" and implied is not None and implied != rules.kind:
            raise InputError(
                f"method {rules.method!r} needs a {implied} target but kind is {rules.kind!r} "
                f"(use {_kind_methods(rules.kind)})", f"{where}.method")
        return rules

    def implied_kind(self) -> str | None:
        """The kind of target ``method`` only works for, if it is kind-specific."""
        if self.method in CLASS_ONLY_METHODS:
            return "classes"
        if self.method in NUMERIC_ONLY_METHODS:
            return "numeric"
        return None


def _kind_methods(kind: str) -> str:
    excluded = NUMERIC_ONLY_METHODS if kind == "classes" else CLASS_ONLY_METHODS
    return ", ".join(m for m in LABEL_METHODS if m not in excluded)


@dataclass
class DataSettings:
    """What the data gate reads and how it judges. ``data``, ``reference``, ``training`` and
    ``serving`` are :data:`~mlgate.data.pointer.Location` s: a local path (a ``*.dvc`` pointer
    included) or a URI string."""

    data: Location
    reference: Location | None = None
    # Saved reference statistics (mlgate profile); with no reference, they are the reference.
    reference_profile: Path | None = None
    profile_home: Path = field(default_factory=Path.cwd)  # where .mlgate/profiles/ lives
    suites: list[Path] = field(default_factory=list)
    contract: dict[str, Any] | None = None
    contract_source: str = "contract"
    contract_file: Path | None = None  # None when the contract is inline (config covers it)
    drift: DriftRules = field(default_factory=DriftRules)
    training: Location | None = None
    serving: Location | None = None
    skew: DriftRules = field(default_factory=DriftRules)
    check_finite: bool = True
    config_file: Path | None = None  # the mlgate.yaml the settings came from, if any
    # The target column: kept out of feature drift and skew, compared as label drift.
    target: str | None = None
    target_source: str = ""  # --target, file:data.target or file:model.target (messages)
    target_explicit: bool = False  # named for the data gate (flag or data.target)
    label: LabelRules = field(default_factory=LabelRules)
    # A batch to score (mlgate predict) carries no target: the contract's entry and the suites'
    # expectations about it are left out, so its absence is not a finding.
    unlabelled: bool = False
    engine: str = "pandas"  # pandas | spark (data.engine, --engine)
    spark_master: str | None = None  # data.spark.master: None is local[*]
    spark_config: dict[str, Any] = field(default_factory=dict)  # data.spark.config
    spark_source: str = "data.spark.master"  # where the master was named (messages)


def display(path: Location) -> str:
    """A path as the user would type it: relative to the working directory when inside it;
    a URI in its printable form (no credentials)."""
    if isinstance(path, str):
        return shown(path)
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return rel if not rel.startswith("..") else str(path)


def from_sources(
    section: dict[str, Any] | None,
    resolve: Any,
    where: Any,
    data: str | None = None,
    reference: str | None = None,
    suites: list[str] | None = None,
    reference_profile: str | None = None,
    contract: str | None = None,
    training: str | None = None,
    serving: str | None = None,
    config_file: Path | None = None,
    target: str | None = None,
    model: dict[str, Any] | None = None,
    engine: str | None = None,
) -> DataSettings:
    """Merge a (schema-validated) ``data:`` section with flag values; flags win.

    ``resolve`` maps a config-relative path to a Path; ``where(*keys)`` names a config field
    for error messages. Flag paths are taken relative to the working directory. ``config_file``
    is the mlgate.yaml read (recorded as an input of the gate). ``model`` is the config's
    ``model:`` section: its ``target`` is the data gate's target unless ``--target`` or
    ``data.target`` names one (one column name per repository, written once), and its ``task``
    tells label drift whether the target is a class label.
    """
    cfg = section or {}
    chosen = engine or str(cfg.get("engine") or "pandas")
    spark = chosen == "spark"

    def location(value: str | Path, resolve: Any = Path) -> Location:
        return pointer_location(value, resolve, spark=spark)

    data_path = (location(data) if data
                 else location(cfg["path"], resolve) if cfg.get("path") else None)
    if data_path is None:
        raise InputError("no data to validate: pass --data FILE or set data.path in mlgate.yaml",
                         where("data", "path") if section is not None else "mlgate validate-data")
    settings = DataSettings(data=data_path, config_file=config_file, engine=chosen)
    spark_cfg = cfg.get("spark") or {}
    if spark_cfg.get("master"):
        settings.spark_master = str(spark_cfg["master"])
        settings.spark_source = where("data", "spark", "master")
    settings.spark_config = {str(k): v for k, v in (spark_cfg.get("config") or {}).items()}
    if reference:
        settings.reference = location(reference)
    elif cfg.get("reference"):
        settings.reference = location(cfg["reference"], resolve)
    if reference_profile:
        settings.reference_profile = Path(reference_profile)
    elif cfg.get("reference_profile") and not reference:
        settings.reference_profile = resolve(cfg["reference_profile"])
    if config_file is not None:
        settings.profile_home = config_file.parent
    if suites:
        settings.suites = [catalogue_suite(Path(s)) for s in suites]
    else:
        configured = list(cfg.get("suites") or [])
        if cfg.get("suite"):
            configured.insert(0, cfg["suite"])
        settings.suites = [catalogue_suite(resolve(s)) for s in configured]
    if contract:
        settings.contract, settings.contract_source = load_contract_file(Path(contract)), contract
        settings.contract_file = Path(contract)
    elif isinstance(cfg.get("contract"), str):
        file = resolve(cfg["contract"])
        settings.contract, settings.contract_source = load_contract_file(file), display(file)
        settings.contract_file = file
    elif isinstance(cfg.get("contract"), dict):
        settings.contract = cfg["contract"]
        settings.contract_source = where("data", "contract")
    settings.drift = replace(DriftRules.from_config(cfg.get("drift") or {}),
                             where=where("data", "drift"))
    skew_cfg = cfg.get("skew") or {}
    settings.skew = replace(DriftRules.from_config(skew_cfg, base=settings.drift),
                            where=where("data", "skew"))
    if training or serving:
        if not (training and serving):
            raise InputError("--training and --serving must be given together",
                             "mlgate validate-data")
        settings.training, settings.serving = location(training), location(serving)
    elif skew_cfg.get("training") and skew_cfg.get("serving"):
        settings.training = location(skew_cfg["training"], resolve)
        settings.serving = location(skew_cfg["serving"], resolve)
    settings.check_finite = bool(cfg.get("check_finite", True))
    model_cfg = model or {}
    if target:
        settings.target, settings.target_source = target, "--target"
        settings.target_explicit = True
    elif cfg.get("target"):
        settings.target, settings.target_source = str(cfg["target"]), where("data", "target")
        settings.target_explicit = True
    elif model_cfg.get("target"):
        settings.target = str(model_cfg["target"])
        settings.target_source = where("model", "target")
    label_where = (where("data", "label_drift") if section is not None
                   else "mlgate validate-data")
    task = model_cfg.get("task")
    settings.label = LabelRules.from_config(cfg.get("label_drift") or {}, label_where,
                                            str(task) if task else None, where("model", "task"))
    return settings


def catalogue_suite(path: Path) -> Path:
    """``path`` itself, or mlgate's catalogue suite of that name (``non_empty``) when no such
    file exists; a missing file is reported later, by the suite loader."""
    from mlgate.resources import checks_dir

    if path.exists() or path.parent.name not in ("", "."):
        return path
    try:
        shipped = checks_dir() / "suites" / f"{path.stem}.json"
    except FileNotFoundError:
        return path
    return shipped if shipped.is_file() else path


def load_contract_file(path: Path) -> dict[str, Any]:
    """Read a contract YAML file (the mapping that ``data.contract`` holds) and validate it."""
    from mlgate.config import load_yaml_file
    from mlgate.resources import load_schema

    full = load_schema("mlgate.schema.json")
    schema = {"$ref": "#/$defs/data_contract", "$defs": full["$defs"]}
    raw = load_yaml_file(path, "contract", schema,
                         expected="a mapping with 'columns' (and 'row_count')")
    return raw
