#!/usr/bin/env bash
# The built wheel works on its own: install it into a fresh virtual environment and, from a
# folder outside the checkout, validate (quick) and run a shipped scenario by name.
# Everything a command needs at run time (pattern files, scenarios, experiments) must be
# package data for this to pass.  Usage: scripts/check-wheel.sh  (after scripts/bootstrap.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
# setuptools builds in ./build: a module removed since the last build would stay in it and
# slip into the wheel, so start from nothing and leave nothing behind
rm -rf build
trap 'rm -rf "$work" build' EXIT

.venv/bin/python -m pip wheel --quiet --no-deps --wheel-dir "$work/dist" . 2>&1 | grep -v WARNING || true
wheel=$(ls "$work"/dist/partnersim-*.whl)
.venv/bin/python -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet "$wheel" 2>&1 | grep -v WARNING || true

mkdir "$work/elsewhere"
cd "$work/elsewhere"
ps="$work/venv/bin/partnersim"
case "$("$work/venv/bin/python" -c 'import partnersim; print(partnersim.__file__)')" in
  "$root"/*) echo "check-wheel: partnersim was imported from the checkout, not the wheel" >&2; exit 1;;
esac
# status 1: some pattern does not hold (docs/validation.md records which, and
# tests/test_patterns.py compares them with that record); 2 or more: the command failed
status=0
"$ps" validate --quick --out validation --no-progress || status=$?
test "$status" -le 1 && test -f validation/patterns.csv
"$ps" run baseline --replicates 2 --no-progress
test -f results/baseline/runs.parquet
echo "check-wheel: the wheel validates and runs a shipped scenario from $work/elsewhere"
