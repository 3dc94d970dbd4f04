#!/usr/bin/env bash
# Install the Debian packages mlgate's tests, demo and benchmarks use, and start dockerd.
# Runs only what is missing; without root or apt-get it says what it could not do and goes on,
# and the tests that need Docker then skip with that reason.
set -uo pipefail
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
[ -x /bin/busybox ] || command -v busybox >/dev/null || missing+=(busybox-static)
command -v wrk >/dev/null || missing+=(wrk)
command -v ssh-keygen >/dev/null || missing+=(openssh-client)   # signed ledger tags (git + ssh)
command -v chromium >/dev/null || missing+=(chromium)   # the HTML report's browser test (Playwright)
command -v prometheus >/dev/null || missing+=(prometheus)   # mlgate canary: the Prometheus source's tests
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "system-deps: installing ${missing[*]}"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
      || echo "system-deps: apt-get install ${missing[*]} failed"
  else
    echo "system-deps: missing ${missing[*]} (need root and apt-get to install)"
  fi
fi
bash "$(dirname "$0")/start-dockerd.sh" || true
