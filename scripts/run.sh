#!/usr/bin/env bash
# make run: the whole local stack with demo data. Everything lives under .hlog/
# (binaries, the private MariaDB's data, keys, logs), so a second run keeps the
# data. Ctrl-C stops every process cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
H=$root/.hlog
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false

scripts/install-deps.sh mariadb
mkdir -p "$H/bin" "$H/mysql" "$H/ingest" "$H/cafe24-sandbox" "$H/logs"

version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "building binaries ($version)"
go build -ldflags "-X hlog.dev/proto/kit.Version=$version -X hlog.dev/proto/kit.Commit=$commit" -o "$H/bin/" \
  hlog.dev/cafe24-svc/cmd/cafe24-sandbox hlog.dev/cafe24-svc/cmd/cafe24-svc \
  hlog.dev/ingest-svc/cmd/ingest-svc hlog.dev/gateway/cmd/gateway hlog.dev/gateway/cmd/hlog-demo

bin() { for d in /usr/sbin /usr/bin; do [ -x "$d/$1" ] && { echo "$d/$1"; return; }; done; command -v "$1"; }
mariadbd=$(bin mariadbd)
user_args=()
[ "$(id -u)" -eq 0 ] && user_args=(--user=root)
sock=$H/mysql/mysqld.sock

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "stopping"
  for ((i=${#pids[@]}-1; i>=0; i--)); do kill -TERM "${pids[$i]}" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -S "$sock" ] && "$(bin mariadb-admin)" --no-defaults --socket="$sock" -uroot shutdown 2>/dev/null || true
  echo "stopped; data kept in .hlog/ (delete it to start over)"
}
trap cleanup EXIT
trap 'cleanup; exit 0' INT TERM

# A private MariaDB on a unix socket only, so it never clashes with a server
# already on port 3306.
if [ ! -d "$H/mysql/data/mysql" ]; then
  echo "initialising MariaDB in .hlog/mysql"
  "$(bin mariadb-install-db)" --no-defaults --auth-root-authentication-method=normal --skip-test-db \
    --datadir="$H/mysql/data" "${user_args[@]}" >"$H/logs/mariadb-install.log" 2>&1
fi
"$mariadbd" --no-defaults --datadir="$H/mysql/data" --socket="$sock" --skip-networking \
  --pid-file="$H/mysql/mariadbd.pid" --log-error="$H/logs/mariadb.log" \
  --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci "${user_args[@]}" 2>>"$H/logs/mariadb.log" &
mysql_pid=$!
for _ in $(seq 1 120); do
  "$(bin mariadb-admin)" --no-defaults --socket="$sock" -uroot ping >/dev/null 2>&1 && break
  kill -0 $mysql_pid 2>/dev/null || { echo "MariaDB did not start; see .hlog/logs/mariadb.log" >&2; exit 1; }
  sleep 0.5
done
"$(bin mariadb)" --no-defaults --socket="$sock" -uroot -e "CREATE DATABASE IF NOT EXISTS hlog CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"

start() { # name, then the command line; output goes to .hlog/logs/<name>.log
  local name=$1; shift
  "$@" >"$H/logs/$name.log" 2>&1 &
  pids+=($!)
}

start cafe24-sandbox "$H/bin/cafe24-sandbox" --addr 127.0.0.1:7101 --mall demo:seed=42 \
  --state-file "$H/cafe24-sandbox/tokens.json"
start cafe24-svc "$H/bin/cafe24-svc" --grpc-addr 127.0.0.1:9101 --metrics-addr 127.0.0.1:9111 \
  --api-base-url 'http://127.0.0.1:7101/malls/{mall_id}'
HLOG_MYSQL_DSN="root@unix($sock)/hlog?parseTime=true&loc=UTC" \
start ingest-svc "$H/bin/ingest-svc" --grpc-addr 127.0.0.1:9090 --metrics-addr 127.0.0.1:9190 \
  --collector-cafe24 127.0.0.1:9101 --collector-smartstore "" --collector-ably "" \
  --credential-key-file "$H/ingest/credential.key" --buyer-hash-key-file "$H/ingest/buyer.key" --create-missing-keys
start gateway "$H/bin/gateway" --http-addr 127.0.0.1:8080 --metrics-addr 127.0.0.1:9180 --ingest-addr 127.0.0.1:9090

if ! "$H/bin/hlog-demo" --gateway-url http://127.0.0.1:8080 --cafe24-sandbox-url http://127.0.0.1:7101 2>>"$H/logs/hlog-demo.log"; then
  echo "demo setup failed; logs are in .hlog/logs/ (tail of hlog-demo.log below)" >&2
  tail -n 5 "$H/logs/hlog-demo.log" >&2
  exit 1
fi

cat <<TXT

H-log is running.
  dashboard      http://127.0.0.1:8080
  REST API       http://127.0.0.1:8080/v1/...   (OpenAPI: http://127.0.0.1:8080/openapi.json)
  gRPC API       127.0.0.1:9090 (ingest-svc; reflection on)
  Cafe24 sandbox http://127.0.0.1:7101 (mall "demo")
  MariaDB        socket $sock (database hlog)
  logs           .hlog/logs/
Press Ctrl-C to stop.
TXT
wait -n "${pids[@]}" || true
echo "a service exited; see .hlog/logs/" >&2
exit 1
