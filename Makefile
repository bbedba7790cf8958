# Two entry points: `make run` (set up, run the default model) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OUT    ?= out

.PHONY: run test setup bench clean

$(BIN)/capacity: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/capacity

setup: $(BIN)/capacity

run: setup
	$(BIN)/capacity validate models/tongzhou
	$(BIN)/capacity run scenarios/*.toml -o $(OUT)
	$(BIN)/capacity compare $(addprefix $(OUT)/,$(basename $(notdir $(wildcard scenarios/*.toml)))) -o $(OUT)/compare

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python benchmarks/bench_projection.py
	$(BIN)/python benchmarks/bench_allocation.py
	$(BIN)/python benchmarks/bench_ensemble.py
	$(BIN)/python benchmarks/bench_plan.py
	$(BIN)/python benchmarks/bench_scale.py --quick

clean:
	rm -rf $(VENV) $(OUT) build *.egg-info
