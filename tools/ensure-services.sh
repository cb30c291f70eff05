#!/usr/bin/env bash
# The Debian packages the test suite needs on a fresh machine: a real redis-server (the Redis store's tests start
# their own server on a free port) and chromium (tests/demo renders the timeline page headless). Installs only what
# is missing; `make test` and .ci/run call it.
set -euo pipefail
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing ${need[*]} (Debian packages the tests need)"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
