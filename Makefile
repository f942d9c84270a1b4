# `make demo` and `make test` each build .venv from scratch when needed (torch first, then the
# rest, all pinned by constraints.txt) and skip the install when nothing it depends on changed.
PYTHON ?= python3
VENV ?= .venv
# Extra pip flags for torch only, e.g. TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"
TORCH_PIP_ARGS ?=
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= runs/demo

.PHONY: demo demo-ablations test test-fast install clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt $(TORCH_PIP_ARGS) torch
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

test: $(STAMP)
	@# pytest exits 5 when it collected no test: that must fail, not pass silently.
	$(BIN)/python -m pytest -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$rc

# The fast tier (under a minute): everything but the end-to-end tests marked slow.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

demo: $(STAMP)
	$(BIN)/videostar demo --run-dir $(DEMO_DIR)

# The paper's ablations over two seeds (about an hour on 2 CPU cores): see README, "Ablations".
demo-ablations: $(STAMP)
	$(BIN)/videostar demo --run-dir $(DEMO_DIR)-ablations --ablations --repeats 2

clean:
	rm -rf $(VENV) runs .pytest_cache
