#!/usr/bin/env bash
# Set up partnersim on a fresh machine: find a Python >= 3.12, create .venv, install.
#   scripts/bootstrap.sh          the package and its runtime dependencies
#   scripts/bootstrap.sh --dev    also the test tools, Debian's Chromium for the dashboard
#                                 tests, and the dashboard's offline front-end assets
# Safe to run again: it does only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[ "${1:-}" = "--dev" ] && dev=1

python_ok() {  # prints the interpreter's path if it is Python >= 3.12
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null && echo "$1"
}

find_python() {
  local candidate
  for candidate in "${PARTNERSIM_PYTHON:-}" python3.13 python3.12 python3; do
    [ -n "$candidate" ] || continue
    command -v "$candidate" >/dev/null 2>&1 || continue
    python_ok "$(command -v "$candidate")" && return 0
  done
  # pyenv installs versions without putting them on PATH
  local root
  root=$( (command -v pyenv >/dev/null 2>&1 && pyenv root) || echo "$HOME/.pyenv")
  for candidate in $(ls -d "$root"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do
    python_ok "$candidate" && return 0
  done
  return 1
}

if [ ! -x .venv/bin/python ] || ! python_ok .venv/bin/python >/dev/null; then
  if ! py=$(find_python); then
    echo "partnersim needs Python 3.12 or newer and none was found (tried PARTNERSIM_PYTHON," \
         "python3.13, python3.12, python3 and pyenv's versions). Install one, or set" \
         "PARTNERSIM_PYTHON=/path/to/python3.12, then run this again." >&2
    exit 1
  fi
  echo "partnersim: creating .venv with $py"
  rm -rf .venv
  "$py" -m venv .venv
fi

extras=""
[ "$dev" = 1 ] && extras="[dev]"
stamp=".venv/.partnersim-installed$extras"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".$extras"
  touch "$stamp"
fi

# the model's stage loops are compiled (numba) on first use and cached beside the source:
# compile them now, once (about 20 s on a fresh checkout, a second afterwards)
.venv/bin/python -c "from partnersim.model.simulate import simulate; simulate()" \
  || { echo "partnersim: the model did not run after installing; see the error above" >&2; exit 1; }

if [ "$dev" = 1 ]; then
  if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
      echo "partnersim: installing Debian's chromium for the dashboard tests"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
      echo "partnersim: the dashboard tests need Chromium: sudo apt-get install chromium" >&2
      exit 1
    fi
  fi
  scripts/prepare-dashboard-assets.sh
fi
