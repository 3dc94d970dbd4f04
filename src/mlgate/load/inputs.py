"""What the load gate read, by role, so its figures are bound to the model and payload used.

A ``serve`` target is the candidate model file itself (role ``model``); any other target is
recorded under ``target`` (a URL without credentials, or a local image by name and id). The
payload data, a template file, the SLO profile (``policy``: a file or a ``checks/load`` preset)
and the mlgate.yaml read have their own entries.
"""

from __future__ import annotations

from typing import Any

from mlgate.load.payload import template_file
from mlgate.load.settings import LoadSettings
from mlgate.load.targets import RunningTarget
from mlgate.provenance import file_input, image_input, source_input, url_input


def gate_inputs(settings: LoadSettings, target: RunningTarget) -> dict[str, dict[str, Any]]:
    spec = settings.target
    found: dict[str, dict[str, Any]] = {}
    if spec.kind == "serve" and spec.model is not None:
        found["model"] = file_input(spec.model)
    elif spec.kind == "image" and spec.image:
        found["target"] = image_input(spec.image, target.image_id)
    else:
        found["target"] = url_input(target.url)
    if settings.payload.data is not None:
        found["payload"] = file_input(settings.payload.data)
    template = template_file(settings.payload)
    if template is not None:
        found["template"] = file_input(template)
    if settings.profile_file is not None:
        found["policy"] = source_input(settings.profile_file)
    if settings.config_file is not None:
        found["config"] = file_input(settings.config_file)
    return found
