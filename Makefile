# The two commands of the README, plus a few conveniences.
.PHONY: run test lint benchmarks benchmarks-design

run:        ## set up, then run the default (baseline) scenario
	scripts/bootstrap.sh
	.venv/bin/partnersim run scenarios/baseline.toml --overwrite

test:       ## set up (with test tools, Chromium, dashboard assets), then run the whole test suite
	scripts/bootstrap.sh --dev
	PARTNERSIM_REQUIRE_BROWSER=1 .venv/bin/python -m pytest

lint:       ## set up (with the dev tools), then ruff and the import rules of docs/architecture.md (import-linter)
	scripts/bootstrap.sh --dev
	.venv/bin/ruff check src tests benchmarks scripts experiments
	.venv/bin/lint-imports

benchmarks: ## set up, then print R1-R5 of DESIGN.md section 7 (issue 15) as ratios to the shared yardstick (about 30 minutes)
	scripts/bootstrap.sh
	.venv/bin/python benchmarks/bench_ratios.py --cold

benchmarks-design: ## set up, then print P1-P5 of DESIGN.md section 7 (the full Sobol' study of P3 takes 10 minutes or more)
	scripts/bootstrap.sh
	for b in benchmarks/bench_model.py benchmarks/bench_p3_sobol.py benchmarks/bench_p4_scaling.py benchmarks/bench_p5_dashboard.py; do .venv/bin/python $$b || exit 1; done
