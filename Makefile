# Mesa: `make run` serves the portal, `make test` runs every test. `make help` lists the rest.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# Links in e-mails start with it. Unset, it follows HOST and PORT (a HOST that listens on every address is no
# address to click: the machine's name stands in for it; an IPv6 address goes in brackets). Behind a proxy, set
# it to the public address.
PORTAL_BASE_URL ?= http://$(if $(filter 0.0.0.0 :: [::],$(HOST)),$(shell hostname -f 2>/dev/null || hostname),$(if $(findstring :,$(HOST)),[$(HOST)],$(HOST))):$(PORT)
WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
THREADS ?= 1
FLASK := $(BIN)/flask --app app

.DEFAULT_GOAL := help
.PHONY: help run test lint bench install translations migrate demo clean i18n-extract

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed ## Create .venv and install the project with its dev tools

translations: $(VENV)/.installed ## Compile the English and Spanish catalogs
	@$(BIN)/pybabel -q compile -d portal/translations

migrate: translations ## Apply the database migrations
	$(FLASK) db upgrade

demo: migrate ## Load the demo data (idempotent) and build the search index
	$(FLASK) demo load
	$(FLASK) kb reindex

run: demo ## Serve the portal with gunicorn on http://$(HOST):$(PORT), with the background worker beside it
	@echo ""
	@echo "  Mesa is running on http://$(HOST):$(PORT)"
	@echo "  The background worker is running too (flask --app app worker): automations, SLA checks, webhooks, mail"
	@echo "  Links in e-mails point at $(PORTAL_BASE_URL) (PORTAL_BASE_URL)"
	@echo "  Demo accounts (password: mesa-demo-2026):"
	@echo "    customers  alice@example.com, bob@example.com"
	@echo "    agents     agnes@example.com (tier 1), diego@example.com (tier 2), tomas@example.com (tier 3)"
	@echo "    admin      admin@example.com"
	@echo "  Ctrl-C stops it."
	@echo ""
	@# Two processes, stopped together on Ctrl-C (portal/worker/together.py); cron can still run the commands.
	exec env PORTAL_BASE_URL='$(PORTAL_BASE_URL)' $(BIN)/python -m portal.worker.together \
		"web=$(BIN)/gunicorn --bind $(HOST):$(PORT) --workers $(WORKERS) --threads $(THREADS) --access-logfile - --graceful-timeout 5 app:app" \
		"worker=$(FLASK) worker"

test: translations ## Run the whole test suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install ## Check the code with ruff
	$(BIN)/ruff check .

bench: translations ## Run every benchmark and rewrite bench/RESULTS.md (BENCH="kb_quality ..." for some)
	$(BIN)/python -m bench.run_all $(BENCH)

clean: ## Remove the virtualenv and caches (keeps instance/)
	rm -rf $(VENV) .pytest_cache .ruff_cache

i18n-extract: install ## Refresh the catalogs from the code and templates (then translate portal/translations/es)
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k N_ --no-location --sort-output -w 120 -o portal/translations/messages.pot .
	$(BIN)/pybabel -q update -i portal/translations/messages.pot -d portal/translations --no-fuzzy-matching -w 120
