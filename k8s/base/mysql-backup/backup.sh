#!/bin/sh
# One logical backup of the H-log database: a consistent snapshot of its
# InnoDB tables that does not block writers (--single-transaction), written
# under a temporary name and renamed only once it is proven complete; then
# dumps older than BACKUP_KEEP_DAYS are pruned.
#
# The dump names no database (no CREATE DATABASE / USE), so it restores into
# any database: see docs/operations.md, "Backups and restore".
set -eu
: "${MYSQL_HOST:?}" "${MYSQL_USER:?}" "${MYSQL_PASSWORD:?}" "${MYSQL_DATABASE:?}"
port=${MYSQL_PORT:-3306}
dir=${BACKUP_DIR:-/backup}
keep_days=${BACKUP_KEEP_DAYS:-14}
work=${TMPDIR:-/tmp}
dump=$(command -v mariadb-dump || command -v mysqldump) || { echo "no mariadb-dump or mysqldump in the image" >&2; exit 1; }

# The password goes through a private option file, never the command line.
umask 077
cnf=$work/backup.$$.cnf
rc=$work/backup.$$.rc
name="hlog-$(date -u +%Y%m%dT%H%M%SZ).sql.gz"
tmp="$dir/.$name.partial"
# Whatever stops the script, a partial dump never stays behind.
trap 'rm -f "$cnf" "$rc" "$tmp"' EXIT
printf '[client]\nhost=%s\nport=%s\nuser=%s\npassword="%s"\n' "$MYSQL_HOST" "$port" "$MYSQL_USER" "$MYSQL_PASSWORD" >"$cnf"

# POSIX sh has no pipefail: the dump's exit status travels through a file
# (inside `if`, set -e does not end the group before it is written).
{ if "$dump" --defaults-extra-file="$cnf" --single-transaction --quick --no-tablespaces --routines --triggers --events \
    --hex-blob --default-character-set=utf8mb4 "$MYSQL_DATABASE"; then echo 0 >"$rc"; else echo $? >"$rc"; fi; } | gzip -6 >"$tmp"
status=$(cat "$rc")
if [ "$status" != 0 ]; then
  echo "dump exited with status $status; no backup written" >&2
  exit 1
fi
# Whole gzip, and the dump's own completion trailer, or it is no backup.
if ! gzip -t "$tmp" || ! gzip -dc "$tmp" | tail -n 1 | grep -q '^-- Dump completed'; then
  echo "dump is truncated (no completion trailer); no backup written" >&2
  exit 1
fi
mv "$tmp" "$dir/$name"
echo "backup written: $dir/$name ($(wc -c <"$dir/$name") bytes)"

find "$dir" -maxdepth 1 -name 'hlog-*.sql.gz' -mtime +"$keep_days" -print -delete
find "$dir" -maxdepth 1 -name '.hlog-*.partial' -mmin +60 -delete
