#!/usr/bin/env bash
# make test: every test of every module. Tests that need MySQL start their own
# private mariadbd (or use HLOG_TEST_MYSQL_DSN); browser tests use Debian's chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh mariadb chromium
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
mapfile -t dirs < <(go list -m -f '{{.Dir}}/...')
go test -count=1 -timeout 25m "$@" "${dirs[@]}"
