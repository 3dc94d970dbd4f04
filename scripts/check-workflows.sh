#!/usr/bin/env bash
# Schema-check every workflow and action file with GitHub's builtin schemas, and audit them
# with zizmor. Run from the repository root with the project's venv on PATH or in .venv.
set -euo pipefail
BIN=${BIN:-.venv/bin}
shopt -s nullglob
workflows=(.github/workflows/*.yml pipeline_templates/*.yml)
actions=(actions/*/action.yml)
if [ ${#workflows[@]} -gt 0 ]; then
  "$BIN/check-jsonschema" --builtin-schema vendor.github-workflows "${workflows[@]}"
fi
if [ ${#actions[@]} -gt 0 ]; then
  "$BIN/check-jsonschema" --builtin-schema vendor.github-actions "${actions[@]}"
fi
targets=()
[ -d .github ] && targets+=(.github)
[ ${#actions[@]} -gt 0 ] && targets+=(actions)
if [ ${#targets[@]} -gt 0 ]; then
  "$BIN/zizmor" --offline --no-progress "${targets[@]}"
fi
