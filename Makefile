# statarb: the single entry points that people and CI use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test bench lint format clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[all,dev,clients]'
	$(BIN)/python -m statarb.warm  # compile the numba kernels once (cached on disk)
	@touch $(STAMP)

setup: $(STAMP)  ## create .venv and install statarb (editable, every extra and the dev tools)

run: $(STAMP)  ## start the product on the embedded store (demo feed when Binance is out of reach)
	$(BIN)/statarb run

test: $(STAMP)  ## the whole test suite
	$(BIN)/python -m pytest -q

bench: $(STAMP)  ## benchmarks, each against its baseline in the same run
	$(BIN)/python -m pip install -q -e '.[all,dev,bench]'
	$(BIN)/python -m bench

lint: $(STAMP)  ## ruff, mypy and the architecture contract
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache .mypy_cache .hypothesis
