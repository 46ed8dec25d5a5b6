#!/bin/sh
# Regenerate the decision study behind docs/findings.md with one command:
#   experiments/decision/run.sh
# 44,000 runs (11 policies x 1,000 futures x 4 replicates, default-sized): about 35-70 minutes
# on 2 cores, then about a minute of analysis. The runs go to results/decision/runs/ (not
# committed; rerunning the script resumes an interrupted study); the report, tables and
# figures are copied to results/decision/ (committed). Extra arguments go to
# `partnersim decide`, e.g. --workers 4 or --scheduler tcp://host:8786.
set -e
cd "$(dirname "$0")/../.."
.venv/bin/partnersim decide experiments/decision/relationship_time.toml \
    --out results/decision/runs --no-progress "$@"
mkdir -p results/decision/figures results/decision/discovery
cp results/decision/runs/report.md results/decision/runs/*.csv results/decision/
cp results/decision/runs/figures/*.png results/decision/figures/
cp results/decision/runs/discovery/*.csv results/decision/discovery/
