"""mlgate.yaml's ``train:`` section: the command that produces the candidate and its outputs."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from mlgate.config import Config
from mlgate.errors import InputError
from mlgate.load.units import parse_duration

DEFAULT_TIMEOUT = "60m"


@dataclass(frozen=True)
class TrainSettings:
    """What ``mlgate train`` runs and what it must write.

    ``argv`` is never given to a shell: a string command is split like a POSIX shell would
    split it, so quoting works, but ``;``, ``&&``, pipes and ``$VAR`` are not interpreted
    (a training that needs them names a script). ``outputs`` default to ``model.path``: the
    one file the model gate reads.
    """

    argv: list[str]
    outputs: list[Path]
    timeout: float
    root: Path
    source: str


def train_settings(config: Config) -> TrainSettings:
    """The ``train:`` section, resolved against the config's directory (InputError when it is
    absent or unusable)."""
    section = config.section("train")
    if not section:
        raise InputError("no train section: add `train: {command: ...}` to mlgate.yaml to "
                         "train the candidate in CI", config.where("train"))
    command = section.get("command")
    where = config.where("train", "command")
    if isinstance(command, str):
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise InputError(f"cannot split the command ({exc})", where) from None
    else:
        argv = [str(part) for part in command or []]
    if not argv or not argv[0]:
        raise InputError("the command is empty", where)
    outputs = _outputs(config, section.get("outputs"))
    timeout = parse_duration(section.get("timeout", DEFAULT_TIMEOUT),
                             config.where("train", "timeout"))
    if timeout <= 0:
        raise InputError("the timeout must be positive", config.where("train", "timeout"))
    return TrainSettings(argv, outputs, timeout, config.root, config.where("train"))


def _outputs(config: Config, listed: object) -> list[Path]:
    if listed is None:
        model_path = config.section("model").get("path")
        if not model_path:
            raise InputError("name the files training writes (train.outputs), or set "
                             "model.path", config.where("train", "outputs"))
        listed = [model_path]
    if not isinstance(listed, list):
        raise InputError("expected a list of files", config.where("train", "outputs"))
    outputs: list[Path] = []
    for index, item in enumerate(listed):
        path = config.resolve(str(item)).resolve()
        try:
            path.relative_to(config.root)
        except ValueError:
            raise InputError("is outside the directory of mlgate.yaml; training outputs "
                             "stay in the project", config.where("train", "outputs", index)
                             ) from None
        outputs.append(path)
    return outputs


def trained_paths(config: Config) -> set[Path]:
    """The files a configured training writes (empty without a ``train:`` section): the ledger
    may record them from the work tree instead of a commit."""
    if not config.section("train"):
        return set()
    return set(train_settings(config).outputs)
