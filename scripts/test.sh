#!/usr/bin/env bash
# The test suite in two passes (`make test`):
#  1. everything else on TEST_WORKERS pytest-xdist workers (default 2): most tests wait on git,
#     subprocesses and local servers, so two workers halve the wall time even on two cores.
#  2. the tests marked `timing` (they measure latencies and request rates) or `serial` (they
#     count machine-wide things, such as the Docker engine's containers) alone, one at a time,
#     so that a neighbour cannot move their figures or their counts. (Not xdist_group: with
#     pytest 9, pytest-xdist 3.8's loadgroup does not group.)
# Arguments are passed to both passes; a pass that selects no test (pytest exit 5) is not a
# failure, so `make test PYTEST_ARGS=tests/ledger` works.
set -uo pipefail
python="${PYTHON:-python}"
workers="${TEST_WORKERS:-2}"

status=0
"$python" -m pytest -n "$workers" -m "not timing and not serial" "$@"
first=$?
[[ $first -eq 0 || $first -eq 5 ]] || status=$first
"$python" -m pytest -m "timing or serial" "$@"
second=$?
[[ $second -eq 0 || $second -eq 5 ]] || status=$second
if [[ $first -eq 5 && $second -eq 5 ]]; then
    echo "scripts/test.sh: no test selected by: $*" >&2
    status=5
fi
exit "$status"
