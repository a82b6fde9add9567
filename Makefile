# Two commands do all the set-up on a fresh machine with Python 3.11+:
#   make report - creates .venv with the runtime dependencies and runs the main job: the chapter
#                 report, measured once and written in English and in Korean
#   make test   - creates .venv-test with the test oracles (PyTorch, Keras) and runs the suite
# and, beside them, make playground: the live playground in the browser (Ctrl-C stops it)
PYTHON ?= python3
VENV := .venv
TVENV := .venv-test

REPORT := descentlab-report

.PHONY: report playground demo test browser lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e .
	touch $@

$(TVENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(TVENV)
	$(TVENV)/bin/pip install --quiet --upgrade pip
	$(TVENV)/bin/pip install --quiet -e '.[test]'
	touch $@

report: $(VENV)/.installed
	$(VENV)/bin/descentlab report --out $(REPORT)/en
	$(VENV)/bin/descentlab report --lang ko --from-json $(REPORT)/en/results.json --out $(REPORT)/ko
	@echo "open $(REPORT)/en/index.html (English) or $(REPORT)/ko/index.html (Korean)"

playground: $(VENV)/.installed
	$(VENV)/bin/descentlab playground

demo: $(VENV)/.installed
	$(VENV)/bin/descentlab demo

test: $(TVENV)/.installed browser
	$(TVENV)/bin/ruff check src tests benchmarks
	$(TVENV)/bin/mypy
	$(TVENV)/bin/python -m pytest -q

# The report test opens the HTML in a real headless browser: Debian's Chromium. Installed here
# when missing and we are root (as in CI) or may sudo without a password; otherwise say how,
# and the browser test is skipped outside CI (in CI it fails instead).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	  else SUDO=none; fi; \
	  if [ "$$SUDO" != none ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the report's browser test"; \
	    $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install \
	      -y -qq --no-install-recommends chromium >/dev/null; \
	  else \
	    echo "note: no chromium; install it (sudo apt-get install chromium) for the browser test"; \
	  fi; }

bench: $(TVENV)/.installed
	$(TVENV)/bin/pip install --quiet -e '.[test,bench]'
	$(TVENV)/bin/python benchmarks/bench_training.py
	$(TVENV)/bin/python benchmarks/bench_labs.py
	$(TVENV)/bin/python benchmarks/bench_population.py

# Static checks: ruff (style, imports, likely bugs) and mypy (types; [tool.mypy] in
# pyproject.toml). No network, a few seconds once mypy's cache is warm.
lint: $(TVENV)/.installed
	$(TVENV)/bin/ruff check src tests benchmarks
	$(TVENV)/bin/mypy

# Mutation testing ([tool.mutmut] in pyproject.toml), a habit rather than a gate: not in `make
# test` nor CI, as it takes minutes. Survivors are listed at the end (`mutmut show NAME` prints
# one). MUTANTS narrows the run to mutant names (globs, no file names), for example
#   make mutants MUTANTS='descentlab.layers.xǁDenseǁbackward__mutmut_*'
MUTANTS ?=
.PHONY: mutants
mutants: $(TVENV)/.installed
	set -f; $(TVENV)/bin/mutmut run $(MUTANTS)
	$(TVENV)/bin/mutmut results

clean:
	rm -rf $(VENV) $(TVENV) build src/*.egg-info $(REPORT) descentlab-out
