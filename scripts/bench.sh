#!/usr/bin/env bash
# make bench [BENCH=area]: runs the benchmarks of one area (cafe24, smartstore,
# ably, ingest, gateway) or of all. Benchmarks print their figures as
#   BENCH <area>.<figure> <value> <unit> target <op><value>
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh mariadb chromium
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
declare -A module=([cafe24]=cafe24-svc [smartstore]=smartstore-svc [ably]=ably-svc [ingest]=ingest-svc [gateway]=gateway)
areas=("$@")
[ ${#areas[@]} -eq 0 ] && areas=(cafe24 smartstore ably ingest gateway)
for area in "${areas[@]}"; do
  m=${module[$area]:-}
  [ -n "$m" ] || { echo "bench: unknown area $area (cafe24, smartstore, ably, ingest, gateway)" >&2; exit 2; }
  echo "== $area ($m)"
  (cd "$m" && go test -run '^$' -bench . -benchtime 1x -count 1 -timeout 60m ./... 2>&1 | grep -E '^(BENCH |FAIL|ok|---|panic)' || true)
done
