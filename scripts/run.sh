#!/usr/bin/env bash
# make run: the whole local stack with demo data. Everything lives under .hlog/
# (binaries, the private MariaDB's data, keys, logs), so a second run keeps the
# data. Ctrl-C stops every process cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
H=$root/.hlog
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false

# Chromium: ably-svc drives the Ably seller site with it.
scripts/install-deps.sh mariadb chromium
mkdir -p "$H/bin" "$H/mysql" "$H/ingest" "$H/cafe24-sandbox" "$H/logs" "$H/secrets"
chmod 700 "$H/secrets"

version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "building binaries ($version)"
go build -ldflags "-X hlog.dev/proto/kit.Version=$version -X hlog.dev/proto/kit.Commit=$commit" -o "$H/bin/" \
  hlog.dev/cafe24-svc/cmd/cafe24-sandbox hlog.dev/cafe24-svc/cmd/cafe24-svc \
  hlog.dev/smartstore-svc/cmd/smartstore-sandbox hlog.dev/smartstore-svc/cmd/smartstore-svc \
  hlog.dev/ably-svc/cmd/ably-sandbox hlog.dev/ably-svc/cmd/ably-svc \
  hlog.dev/ingest-svc/cmd/ingest-svc hlog.dev/gateway/cmd/gateway hlog.dev/gateway/cmd/hlog-demo

# The token the gateway presents to ingest-svc, made once and kept.
token_file=$H/secrets/service-token
if [ ! -s "$token_file" ]; then
  (umask 077; head -c 32 /dev/urandom | base64 | tr -d '=+/\n' >"$token_file")
fi

# Sandbox-only credentials (the sandboxes' registered demo apps and sellers).
cafe24_client_id=hlog-dev-client
cafe24_client_secret=hlog-dev-secret
smartstore_client_id=hlogSandboxApp01
smartstore_client_secret='$2a$04$hlogdevsandboxsecret00'
ably_email=demo@example.com
ably_password=password
demo_email=demo@hlog.local
demo_password=hlog-demo-password

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
  "$(bin mariadb-install-db)" --no-defaults --force --auth-root-authentication-method=normal --skip-test-db \
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
start smartstore-sandbox "$H/bin/smartstore-sandbox" --addr 127.0.0.1:7102
start smartstore-svc "$H/bin/smartstore-svc" --grpc-addr 127.0.0.1:9102 --metrics-addr 127.0.0.1:9112 \
  --api-base-url http://127.0.0.1:7102/external
start ably-sandbox "$H/bin/ably-sandbox" --addr 127.0.0.1:7103
start ably-svc "$H/bin/ably-svc" --grpc-addr 127.0.0.1:9103 --metrics-addr 127.0.0.1:9113 \
  --site-url http://127.0.0.1:7103 --api-url ''
HLOG_MYSQL_DSN="root@unix($sock)/hlog?parseTime=true&loc=UTC" HLOG_SERVICE_TOKEN_FILE="$token_file" \
start ingest-svc "$H/bin/ingest-svc" --grpc-addr 127.0.0.1:9090 --metrics-addr 127.0.0.1:9190 \
  --collector-cafe24 127.0.0.1:9101 --collector-smartstore 127.0.0.1:9102 --collector-ably 127.0.0.1:9103 \
  --credential-key-file "$H/ingest/credential.key" --buyer-hash-key-file "$H/ingest/buyer.key" --create-missing-keys
HLOG_CAFE24_CLIENT_SECRET=$cafe24_client_secret \
start gateway "$H/bin/gateway" --http-addr 127.0.0.1:8080 --metrics-addr 127.0.0.1:9180 --ingest-addr 127.0.0.1:9090 \
  --public-url http://127.0.0.1:8080 --service-token-file "$token_file" \
  --cafe24-client-id "$cafe24_client_id" --cafe24-authorize-url 'http://127.0.0.1:7101/malls/{mall_id}/api/v2/oauth/authorize'

echo "connecting the demo seller to the three sandboxes and running the first syncs"
if ! HLOG_DEMO_SELLER_PASSWORD=$demo_password HLOG_DEMO_SMARTSTORE_CLIENT_SECRET=$smartstore_client_secret \
  HLOG_DEMO_ABLY_PASSWORD=$ably_password \
  "$H/bin/hlog-demo" --gateway-url http://127.0.0.1:8080 --seller-email "$demo_email" \
    --cafe24-mall demo --smartstore-client-id "$smartstore_client_id" --ably-email "$ably_email" 2>>"$H/logs/hlog-demo.log"; then
  echo "demo setup failed; logs are in .hlog/logs/ (tail of hlog-demo.log below)" >&2
  tail -n 5 "$H/logs/hlog-demo.log" >&2
  exit 1
fi

cat <<TXT

H-log is running.
  dashboard      http://127.0.0.1:8080
    sign in as   $demo_email
    password     $demo_password
    (Cafe24, Smartstore and Ably are connected to their sandboxes)
  REST API       http://127.0.0.1:8080/v1/...   (OpenAPI: http://127.0.0.1:8080/openapi.json)
  gRPC API       127.0.0.1:9090 (ingest-svc; reflection on; API keys:
                 HLOG_MYSQL_DSN='root@unix($sock)/hlog?parseTime=true&loc=UTC' .hlog/bin/ingest-svc apikey create --name me --all)
  sandboxes      Cafe24 http://127.0.0.1:7101 (mall "demo"), Smartstore http://127.0.0.1:7102, Ably http://127.0.0.1:7103
                 (to connect another seller by hand: Cafe24 mall id "demo"; Smartstore $smartstore_client_id / $smartstore_client_secret;
                 Ably $ably_email / $ably_password)
  MariaDB        socket $sock (database hlog)
  logs           .hlog/logs/
Press Ctrl-C to stop.
TXT
wait -n "${pids[@]}" || true
echo "a service exited; see .hlog/logs/" >&2
exit 1
