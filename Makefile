# The two commands of the README, plus a few conveniences.
.PHONY: run test validate lint benchmarks

run:        ## set up, then run the default (baseline) scenario
	scripts/bootstrap.sh
	.venv/bin/partnersim run scenarios/baseline.toml --overwrite

test:       ## set up (with test tools, Chromium, dashboard assets), then run the whole test suite
	scripts/bootstrap.sh --dev
	PARTNERSIM_REQUIRE_BROWSER=1 .venv/bin/python -m pytest

lint:       ## ruff, and the import rules of docs/architecture.md (import-linter)
	.venv/bin/ruff check src tests benchmarks scripts experiments
	.venv/bin/lint-imports

benchmarks: ## print the performance figures of DESIGN.md section 7
	for b in benchmarks/bench_*.py; do .venv/bin/python $$b || exit 1; done
