# Two commands do all the set-up on a fresh machine with Python 3.11+:
#   make demo   - creates .venv with the runtime dependencies and runs the main job
#   make test   - creates .venv-test with the test oracles (PyTorch, Keras) and runs the suite
PYTHON ?= python3
VENV := .venv
TVENV := .venv-test

.PHONY: demo test lint bench clean

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

demo: $(VENV)/.installed
	$(VENV)/bin/descentlab demo

test: $(TVENV)/.installed
	$(TVENV)/bin/ruff check src tests benchmarks
	$(TVENV)/bin/python -m pytest -q

bench: $(TVENV)/.installed
	$(TVENV)/bin/python benchmarks/bench_training.py

clean:
	rm -rf $(VENV) $(TVENV) build src/*.egg-info
