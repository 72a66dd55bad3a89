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

.PHONY: help venv link demo test ruff units emulator-tests integration sanity lint molecule bench bench-smoke docs package emulator clean

help:
	@echo "make demo      provision numbers with the role against the bundled emulator"
	@echo "make test      every check: unit, emulator, integration, sanity, lint, molecule, package"
	@echo "make emulator  run the emulator in the foreground on EMULATOR_PORT ($(EMULATOR_PORT))"
	@echo "make bench     the performance benchmark (see docs/performance.md)"
	@echo "make docs      build the documentation site into .build/docs/html"
	@echo "make package   build the Galaxy artifact, install it and run it; lint docs and changelog"

$(STAMP): requirements.txt requirements-dev.txt emulator/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(STAMP)

# ansible-core finds the collection under its Galaxy name through this link to the checkout.
link:
	@mkdir -p .build/collections/ansible_collections/livekit
	@ln -sfn ../../../.. .build/collections/ansible_collections/livekit/sip

# Lint and format check of every Python file (ruff.toml); `ruff format .` fixes the format.
ruff: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

units: venv link
	$(BIN)/python -m pytest -q tests/unit

# The emulator's own suite, under its own pytest configuration (emulator/pyproject.toml).
emulator-tests: venv
	cd emulator && $(CURDIR)/$(BIN)/python -m pytest -q tests

integration: venv link
	$(BIN)/python -m pytest -q tests/integration

sanity: venv
	bash scripts/ansible-test.sh sanity --venv --python 3.11

lint: venv link
	$(BIN)/ansible-lint --profile production

test: ruff units emulator-tests integration bench-smoke sanity lint molecule package

# docs/performance.md: the role at 100 to 20,000 numbers, with pages of 1,000 and of 100, against
# its floor and a per-number loop (to 1,000 numbers) on the emulator (about 40 minutes with the
# defaults on a quiet machine). BENCH_ARGS chooses sizes, repetitions and latency, for example
#   make bench BENCH_ARGS="--sizes 50,100 --main-size 100 --repeat 1 --floor-runs 1"   (about 3 minutes)
# Results: .build/bench/results.json, report.md and performance-fleet-size.png.
BENCH_ARGS ?=
bench: venv link
	$(BIN)/python -m benchmarks.run --out .build/bench/results.json $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.report .build/bench/results.json --markdown .build/bench/report.md \
		--plot .build/bench/performance-fleet-size.png --check

# The benchmark at 10 numbers, both approaches, one run: the counting targets (no write on a
# re-run, one listing, calls per page and per change, one release call), a server capping pages
# at 3 (4 pages), the floor, the module's memory, the rate-limited run and the report, in about 35 seconds.
bench-smoke: venv link
	$(BIN)/python -m benchmarks.run --sizes 10 --main-size 10 --repeat 1 --loop-repeat 1 --startup-runs 3 \
		--page-caps 1000,3 --floor-runs 1 --memory-size 10 \
		--out .build/bench/smoke/results.json --check
	$(BIN)/python -m benchmarks.report .build/bench/smoke/results.json --markdown .build/bench/smoke/report.md \
		--plot .build/bench/smoke/performance-fleet-size.png --check

# The role against the bundled emulator, with the collection built and installed as a user would.
demo: venv
	VENV_BIN=$(abspath $(BIN)) bash scripts/demo.sh

# Every scenario under extensions/molecule; each starts and stops its own emulator.
molecule: venv link
	$(BIN)/molecule test --all

# Release readiness: the changelog and the documentation lint clean, then tests/package builds
# the Galaxy artifact, installs it into .build/package/collections and runs playbooks from that
# copy: the examples, the guides' playbooks, the AWX credential type, the execution environment.
# It also types the README's Install and Quick start and the guides' commands as written, in
# fresh directories; runs AWX-style jobs through ansible-runner; and checks every relative link
# of every shipped document against the artifact's file list.
package: venv link
	$(BIN)/antsibull-changelog lint
	$(BIN)/antsibull-docs lint-collection-docs --plugin-docs .
	$(BIN)/python -m pytest -q tests/package

# antsibull-docs reference of the modules and the role, the guides of docs/, the changelog.
docs: venv link
	$(BIN)/python docs/site/build.py

emulator: venv
	$(BIN)/livekit-sip-emulator serve --port $(EMULATOR_PORT)

clean:
	rm -rf .build tests/output
