# Two commands on a fresh machine: `make grade` and `make test`.
# Each creates .venv on first use. torch is installed first as the pinned CPU
# build (`torch==2.13.0+cpu`: from pip's usual sources, a local wheel directory
# in PIP_FIND_LINKS included, else from PyTorch's CPU index), so that the project's torch range never pulls a
# CUDA build.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SUBMISSION ?= assignment
GRADE_ARGS ?=
TORCH_PIN ?= torch==2.13.0+cpu
TORCH_INDEX_URL ?= https://download.pytorch.org/whl/cpu
TF_PIN ?= tensorflow-cpu==2.21.0

.PHONY: grade test bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet '$(TORCH_PIN)' 2>/dev/null \
	  || $(BIN)/python -m pip install --quiet '$(TORCH_PIN)' --index-url $(TORCH_INDEX_URL)
	$(BIN)/python -m pip install --quiet $(TF_PIN)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

grade: $(VENV)/.installed
	$(BIN)/grader check $(SUBMISSION) $(GRADE_ARGS)

test: $(VENV)/.installed
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

bench: $(VENV)/.installed
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info
