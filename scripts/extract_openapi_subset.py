"""Extract the GitHub REST operations mlgate uses from GitHub's official OpenAPI description.

Reads ``node_modules/@octokit/openapi/generated/api.github.com.json`` (npm ``@octokit/openapi``,
installed by ``npm ci``) and writes those operations plus everything they reference
(``$ref`` closure over components: schemas, parameters, responses, headers, examples) to
``tests/fixtures/github/openapi-subset.json``. The tests' GitHub emulator validates every
request and response against that file; a test re-runs this extraction and compares, so the
subset never drifts from the source.

    .venv/bin/python scripts/extract_openapi_subset.py [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "node_modules" / "@octokit" / "openapi" / "generated" / "api.github.com.json"
TARGET = ROOT / "tests" / "fixtures" / "github" / "openapi-subset.json"

# operationId of every call mlgate (and its tests) make.
OPERATIONS = (
    "issues/list-comments",
    "issues/create-comment",
    "issues/get-comment",
    "issues/update-comment",
    "issues/get",
    "issues/create",
    # continuous training: one approval-request issue, found again and updated
    "issues/list-for-repo",
    "issues/update",
    "checks/create",
    "checks/update",
    "checks/get",
    "checks/list-for-ref",
    "repos/create-commit-status",
    "repos/list-commit-statuses-for-ref",
    "repos/get-combined-status-for-ref",
    "repos/create-deployment",
    "repos/list-deployments",
    "repos/get-deployment",
    "repos/create-deployment-status",
    "repos/list-deployment-statuses",
    "repos/get-environment",
    "actions/get-workflow-run",
    "actions/get-reviews-for-run",
    "actions/get-pending-deployments-for-run",
    "actions/review-pending-deployments-for-run",
    "repos/get-collaborator-permission-level",
    "pulls/get",
    "repos/get",
    "repos/create-release",
    "repos/get-release-by-tag",
    "repos/list-releases",
    "rate-limit/get",
    # mlgate doctor: the settings the ledger's trust model relies on (and, in the tests, the
    # calls that apply the fixes it prints).
    "repos/get-repo-rulesets",
    "repos/get-repo-ruleset",
    "repos/create-repo-ruleset",
    "repos/update-repo-ruleset",
    "repos/get-branch-rules",
    "repos/get-branch-protection",
    "repos/create-or-update-environment",
    "repos/list-deployment-branch-policies",
    "actions/get-github-actions-permissions-repository",
    "actions/set-github-actions-permissions-repository",
    "actions/set-allowed-actions-repository",
    "actions/get-github-actions-default-workflow-permissions-repository",
    "actions/set-github-actions-default-workflow-permissions-repository",
    "users/get-by-username",
)
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def extract(spec: dict[str, Any], operations: tuple[str, ...] = OPERATIONS) -> dict[str, Any]:
    """The subset document: the chosen operations and the closure of their ``$ref``s."""
    wanted = set(operations)
    paths: dict[str, Any] = {}
    for path, item in spec["paths"].items():
        for method in HTTP_METHODS:
            op = item.get(method)
            if isinstance(op, dict) and op.get("operationId") in wanted:
                entry = paths.setdefault(path, {})
                if "parameters" in item:
                    entry["parameters"] = item["parameters"]
                entry[method] = op
                wanted.discard(op["operationId"])
    if wanted:
        raise SystemExit(f"operations not found in the source: {', '.join(sorted(wanted))}")
    components: dict[str, dict[str, Any]] = {}
    pending = list(_refs(paths))
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        parts = ref.removeprefix("#/").split("/")
        if parts[0] != "components" or len(parts) != 3:
            raise SystemExit(f"unsupported $ref {ref}")
        target = spec["components"][parts[1]][parts[2]]
        components.setdefault(parts[1], {})[parts[2]] = target
        pending.extend(_refs(target))
    return {
        "openapi": spec["openapi"],
        "info": {
            "title": "GitHub REST API subset used by mlgate",
            "version": spec["info"]["version"],
            "description": "Extracted by scripts/extract_openapi_subset.py from npm "
            "@octokit/openapi generated/api.github.com.json; do not edit by hand.",
        },
        "servers": spec.get("servers", []),
        "paths": dict(sorted(paths.items())),
        "components": {k: dict(sorted(v.items())) for k, v in sorted(components.items())},
    }


def _refs(node: Any) -> list[str]:
    out: list[str] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            ref = current.get("$ref")
            if isinstance(ref, str):
                out.append(ref)
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return out


def render(subset: dict[str, Any]) -> str:
    return json.dumps(subset, indent=1, sort_keys=False, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--output", type=Path, default=TARGET)
    parser.add_argument("--check", action="store_true", help="fail if the output is out of date")
    args = parser.parse_args(argv)
    if not args.source.is_file():
        print(f"{args.source}: not found; run `npm ci` first", file=sys.stderr)
        return 2
    text = render(extract(json.loads(args.source.read_text(encoding="utf-8"))))
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.is_file() else ""
        if current != text:
            print(f"{args.output}: out of date; re-run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({len(text) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
