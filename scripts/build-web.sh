#!/usr/bin/env bash
# Builds the dashboard into web/dist, which is committed and embedded by the
# gateway (hlog.dev/web). Deterministic: the same sources and package-lock.json
# give byte-identical files, so CI can rebuild and fail on any diff.
# Nothing is fetched but npm packages (and Debian's nodejs/npm when missing).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
web="$root/web"

# The dashboard's own files, copied as they are (no bundler, no minifier).
sources=(index.html style.css i18n.js core.js auth.js accounts.js app.js)
# Chart.js's self-contained UMD build, the one file of it the page loads.
chart_js="node_modules/chart.js/dist/chart.umd.min.js"

ensure_node() {
  if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    return
  fi
  echo "build-web: node/npm missing, installing Debian's nodejs and npm" >&2
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm
}

ensure_node
cd "$web"

# npm ci installs exactly what package-lock.json pins. Install scripts are not
# needed by Chart.js and are not run.
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

staging="$(mktemp -d "$web/.dist.XXXXXX")"
trap 'rm -rf "$staging"' EXIT

for f in "${sources[@]}"; do
  cp "src/$f" "$staging/$f"
done
cp "$chart_js" "$staging/chart.umd.min.js"
# git records only the executable bit, but keep modes uniform anyway.
chmod 0644 "$staging"/*
chmod 0755 "$staging"

rm -rf dist
mv "$staging" dist
trap - EXIT

echo "build-web: wrote $(find dist -type f | wc -l | tr -d ' ') files to web/dist (chart.js $(node -p 'require("./node_modules/chart.js/package.json").version'))" >&2
