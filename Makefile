# One command runner for people and CI. `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
CJK_FONT := /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc

.DEFAULT_GOAL := help
.PHONY: help install demo test lint bench lock messages swagger-ui clean

help: ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install Rapport with pinned dependencies

demo: $(STAMP) ## Build the demo world on SQLite (once) and serve it on http://127.0.0.1:8000
	@test -e $(CJK_FONT) || apt-get install -y --no-install-recommends fonts-noto-cjk || \
	  echo "note: Japanese scorecards need fonts-noto-cjk (apt-get install it as root)" >&2
	$(BIN)/rapport demo

$(CJK_FONT):  # Japanese scorecards and pages need a font with its glyphs (WeasyPrint and Chromium)
	apt-get install -y --no-install-recommends fonts-noto-cjk || \
	  (echo "Japanese text needs Noto CJK: apt-get install fonts-noto-cjk (as root)" >&2; exit 1)

$(CHROMIUM):  # the browser test drives Debian's Chromium; Playwright's own download cannot work here
	apt-get install -y --no-install-recommends chromium || \
	  (echo "the browser test needs Chromium: apt-get install chromium (as root)" >&2; exit 1)

test: $(STAMP) $(CHROMIUM) $(CJK_FONT) ## Run the whole suite (SQLite; PostgreSQL too when RAPPORT_TEST_POSTGRES is set)
	$(BIN)/python -m pytest -n 2 --durations=10 --doctest-modules tests surveys/world surveys/charts surveys/scorecards scoring

lint: $(STAMP) ## ruff check, ruff format --check, mypy --strict on scoring/ and surveys/, the import contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy scoring surveys
	$(BIN)/lint-imports

bench: $(STAMP) ## Measure world generation, storage, scoring, concurrent submits, workspace pages, scorecards, imports and (PostgreSQL) the workers
	$(BIN)/python benchmarks/bench_world.py
	$(BIN)/python benchmarks/bench_scoring.py
	$(BIN)/python benchmarks/bench_submit.py
	$(BIN)/python benchmarks/bench_workspaces.py
	$(BIN)/python benchmarks/bench_scorecards.py
	$(BIN)/python benchmarks/bench_directory.py
	$(BIN)/python benchmarks/bench_imports.py
	$(BIN)/python benchmarks/bench_status.py
	@if [ -n "$$RAPPORT_BENCH_POSTGRES" ]; then $(BIN)/python benchmarks/bench_workers.py; \
	else echo "bench_workers.py skipped: set RAPPORT_BENCH_POSTGRES to a PostgreSQL server's URL"; fi

lock: ## Re-pin constraints.txt from the current .venv
	echo "# Exact versions every machine installs (make install); regenerate with \`make lock\`." > constraints.txt
	$(BIN)/pip freeze --exclude-editable | grep -v '^rapport' >> constraints.txt

messages: $(STAMP) ## Re-extract the interface's texts into surveys/locale/ and update each catalogue
	$(BIN)/pybabel extract -F babel.cfg -k N_ --ignore-dirs ".*" --no-location --sort-output --omit-header -o surveys/locale/messages.pot .
	$(BIN)/pybabel update -i surveys/locale/messages.pot -d surveys/locale --width 100 --ignore-obsolete --no-fuzzy-matching

SWAGGER_UI := 5.36.0
swagger-ui: ## Refresh the API reference's Swagger UI (templates/static/openapi) from npm: SWAGGER_UI=version
	cd $$(mktemp -d) && npm pack --silent swagger-ui-dist@$(SWAGGER_UI) && tar xzf swagger-ui-dist-$(SWAGGER_UI).tgz && \
	  cp package/swagger-ui-bundle.js package/swagger-ui-bundle.js.LICENSE.txt package/swagger-ui.css \
	  package/LICENSE package/NOTICE $(CURDIR)/templates/static/openapi/

clean: ## Remove .venv and the demo database (var/)
	rm -rf $(VENV) var
