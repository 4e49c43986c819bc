# The two commands of the README, runnable on a fresh CPU-only machine (no GPU, no model hub).
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install demo test bench check-install

install:
	bash scripts/bootstrap.sh

demo: install
	$(VENV)/bin/vidfast demo -o demo-out

test: install
	$(PY) -m pytest -q tests

bench: install
	$(PY) -m bench.bench_sampling && $(PY) -m bench.bench_ops

check-install:  # pip install . (not editable) into a new venv, checked from outside the checkout
	bash scripts/check_install.sh
