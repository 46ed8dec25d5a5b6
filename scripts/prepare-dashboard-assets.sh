#!/usr/bin/env bash
# Prepare the dashboard's offline front-end assets: Solara's JavaScript, CSS and fonts,
# fetched once from the npm registry (npm pack) into .cache/solara-assets (or
# $PARTNERSIM_ASSETS_DIR). After this, `partnersim dashboard` needs no network at all.
#   scripts/prepare-dashboard-assets.sh
# Safe to run again: when the cache is complete it returns at once, without npm or network.
# Needs .venv (scripts/bootstrap.sh) and, only when something is missing, npm
# (installed with apt-get when running as root).
set -euo pipefail
cd "$(dirname "$0")/.."

py=.venv/bin/python
if [ ! -x "$py" ]; then
  echo "prepare-dashboard-assets: no .venv here; run scripts/bootstrap.sh first" >&2
  exit 1
fi

complete() {
  "$py" - <<'PY'
import sys
from partnersim.dashboard.server import default_assets_dir, missing_assets
sys.exit(1 if missing_assets(default_assets_dir()) else 0)
PY
}

if complete; then
  echo "prepare-dashboard-assets: assets already prepared"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "prepare-dashboard-assets: installing Debian's npm (used once, to fetch the assets)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
  else
    echo "prepare-dashboard-assets: npm is needed once: sudo apt-get install npm" >&2
    exit 1
  fi
fi

exec .venv/bin/partnersim dashboard --prepare-assets
