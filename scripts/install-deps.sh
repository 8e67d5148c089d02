#!/usr/bin/env bash
# Installs what H-log needs beyond Go, through the OS package manager, only
# when it is missing. Usage: scripts/install-deps.sh [mariadb] [chromium] [node]
# (no arguments: all three). Debian and Ubuntu (apt-get) are supported.
set -euo pipefail

want=("$@")
[ ${#want[@]} -eq 0 ] && want=(mariadb chromium node)

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }

packages=()
for w in "${want[@]}"; do
  case "$w" in
    mariadb) have mariadbd && have mariadb-install-db || packages+=(mariadb-server mariadb-client) ;;
    chromium) have chromium || packages+=(chromium fonts-noto-cjk) ;;
    node) have node && have npm || packages+=(nodejs npm) ;;
    *) echo "install-deps: unknown component $w" >&2; exit 2 ;;
  esac
done
[ ${#packages[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: missing ${packages[*]}, and apt-get is not available; install them with your package manager" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root or sudo to install ${packages[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${packages[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Package installs must not start system services: H-log runs its own private
# MariaDB and never touches a system one.
policy=/usr/sbin/policy-rc.d
made_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod +x "$policy" && made_policy=1
fi
trap '[ -n "$made_policy" ] && $sudo rm -f "$policy"' EXIT
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
