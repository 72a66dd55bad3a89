# The one entry point. `make demo` and `make test` are the contract; see README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EMULATOR_PORT ?= 7880
export EMULATOR_PORT

# Sub-makes and scripts use the project's virtualenv first.
export PATH := $(CURDIR)/$(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.build/collections
# ansible-core warns when it cannot tell the locale; CI machines often have none.
export LC_ALL ?= C.UTF-8

.PHONY: help venv link demo test units emulator-tests integration sanity lint molecule bench docs emulator clean

help:
	@echo "make demo      provision numbers with the role against the bundled emulator"
	@echo "make test      every check: unit, emulator, integration, sanity, lint, molecule"
	@echo "make emulator  run the emulator in the foreground on EMULATOR_PORT ($(EMULATOR_PORT))"
	@echo "make bench     the performance benchmark (see docs/performance.md)"
	@echo "make docs      build the documentation site"

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(STAMP)

# ansible-core finds the collection under its Galaxy name through this link to the checkout.
link:
	@mkdir -p .build/collections/ansible_collections/livekit
	@ln -sfn ../../../.. .build/collections/ansible_collections/livekit/sip

units: venv link
	$(BIN)/python -m pytest -q tests/unit

emulator-tests: venv
	$(BIN)/python -m pytest -q tests/emulator

integration: venv link
	$(BIN)/python -m pytest -q tests/integration

sanity: venv
	bash scripts/ansible-test.sh sanity --venv --python 3.11

lint: venv link
	$(BIN)/ansible-lint --profile production

test: units emulator-tests integration sanity lint molecule

# The role against the bundled emulator, with the collection built and installed as a user would.
demo: venv
	VENV_BIN=$(abspath $(BIN)) bash scripts/demo.sh

# Every scenario under extensions/molecule; each starts and stops its own emulator.
molecule: venv link
	$(BIN)/molecule test --all

emulator: venv
	$(BIN)/python -m tests.emulator serve --port $(EMULATOR_PORT)

clean:
	rm -rf .build tests/output
