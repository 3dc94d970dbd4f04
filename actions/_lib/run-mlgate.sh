#!/usr/bin/env bash
# Run one `mlgate` command as a composite-action step, the same way for every action.
#
# Usage: run-mlgate.sh COMMAND [ARGS...]
# Environment (all optional):
#   MLGATE_JSON          where the JSON report goes (default: $MLGATE_RESULTS_DIR/COMMAND.json)
#   MLGATE_RESULTS_DIR   directory of the reports (default: $RUNNER_TEMP/mlgate-results), which
#                        the `report` action reads back
#   MLGATE_FAIL_ON_GATE  "false" turns a failed gate (exit 1) into a passing step; status=fail stays
#   MLGATE_BIN           the mlgate program (default: mlgate on PATH, as `setup` leaves it)
#
# mlgate itself writes `status`, `report` and command outputs (version, tag, ...) to
# $GITHUB_OUTPUT and the job summary to $GITHUB_STEP_SUMMARY. This wrapper adds what mlgate
# cannot say when it stops on bad input (exit >= 2): status=error, and always `exit-code`.
set -uo pipefail

command=${1:?usage: run-mlgate.sh COMMAND [ARGS...]}
shift
results_dir=${MLGATE_RESULTS_DIR:-${RUNNER_TEMP:-/tmp}/mlgate-results}
json=${MLGATE_JSON:-$results_dir/$command.json}
mkdir -p -- "$(dirname -- "$json")"
outputs=${GITHUB_OUTPUT:-/dev/null}

# Ledger commands write annotated tags and notes: a fresh runner has no git identity.
if [ "$command" = register ] || [ "$command" = promote ] || [ "$command" = rollback ]; then
  if [ -z "$(git config user.name || true)" ]; then
    export GIT_AUTHOR_NAME=${GIT_AUTHOR_NAME:-github-actions[bot]}
    export GIT_COMMITTER_NAME=${GIT_COMMITTER_NAME:-github-actions[bot]}
  fi
  if [ -z "$(git config user.email || true)" ]; then
    bot_email=41898282+github-actions[bot]@users.noreply.github.com
    export GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL:-$bot_email}
    export GIT_COMMITTER_EMAIL=${GIT_COMMITTER_EMAIL:-$bot_email}
  fi
fi

echo "::group::mlgate $command"
printf 'mlgate %s' "$command"; printf ' %q' "$@" --json "$json"; printf '\n'
"${MLGATE_BIN:-mlgate}" "$command" "$@" --json "$json"
code=$?
echo "::endgroup::"

echo "exit-code=$code" >> "$outputs"
if [ "$code" -ge 2 ]; then
  # Bad input, configuration or an internal error: mlgate printed one line saying what.
  echo "status=error" >> "$outputs"
  exit "$code"
fi
if [ "$code" -eq 1 ] && [ "${MLGATE_FAIL_ON_GATE:-true}" = "false" ]; then
  echo "::warning title=mlgate $command::the gate failed; continuing because fail-on-gate is false"
  exit 0
fi
exit "$code"
