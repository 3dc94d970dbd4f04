#!/usr/bin/env bash
# Start dockerd in the background unless an engine already answers; wait up to 60 s for it.
set -uo pipefail
if docker info >/dev/null 2>&1; then exit 0; fi
if ! command -v dockerd >/dev/null; then echo "start-dockerd: dockerd is not installed"; exit 1; fi
if [ "$(id -u)" != 0 ]; then echo "start-dockerd: need root to start dockerd"; exit 1; fi
log=${DOCKERD_LOG:-/tmp/mlgate-dockerd.log}
nohup dockerd >"$log" 2>&1 &
for _ in $(seq 60); do
  docker info >/dev/null 2>&1 && { echo "start-dockerd: engine is up"; exit 0; }
  sleep 1
done
echo "start-dockerd: dockerd did not answer within 60 s; see $log"
exit 1
