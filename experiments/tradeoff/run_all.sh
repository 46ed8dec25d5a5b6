#!/bin/sh
# Regenerate every result and figure of the relationship-time study (docs/findings.md).
# Runs: about an hour on 2 cores (the best-share study alone about 50 minutes).
# Results go to results/tradeoff/runs/ (not committed); figures and small tables to results/tradeoff/ (committed).
set -e
cd "$(dirname "$0")/../.."
rm -rf results/tradeoff/runs  # regenerate from scratch with the current model
PS=.venv/bin/partnersim
for x in horizon resources turnover leadership familiarity pressure; do
    $PS sweep experiments/tradeoff/share_by_$x.toml --out results/tradeoff/runs/share_by_$x --no-progress
done
$PS compare experiments/tradeoff/raise_share_low.toml experiments/tradeoff/raise_share_at_24.toml \
    --out results/tradeoff/runs/raise_share --no-progress
$PS compare experiments/tradeoff/trap_calm.toml experiments/tradeoff/trap_surge.toml \
    --out results/tradeoff/runs/trap --no-progress
$PS sensitivity experiments/tradeoff/sobol_share_over_time.toml \
    --out results/tradeoff/runs/sobol_share_over_time --no-progress
$PS sensitivity experiments/best_share.toml --out results/tradeoff/runs/best_share --no-progress
.venv/bin/python experiments/tradeoff/figures.py
