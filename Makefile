# Two commands do all the set-up on a fresh machine:
#   make synth   -> .venv + node_modules, then `cdk synth` of every example stack into cdk.out/
#   make test    -> the same set-up, then ruff, mypy and the whole pytest suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The template scanners (cfn-lint, checkov) live in their own venv: checkov pins an older boto3 than the tests use.
SCAN_VENV := .venv-scan
CDK := node_modules/.bin/cdk

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export AWS_EC2_METADATA_DISABLED := true
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup synth test lint typecheck pytest bench clean

setup: $(VENV)/.installed $(SCAN_VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements-dev.txt requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c requirements.lock
	touch $@

$(SCAN_VENV)/.installed: requirements-scan.txt requirements-scan.lock
	test -x $(SCAN_VENV)/bin/python || $(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-scan.txt -c requirements-scan.lock
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

synth: setup
	rm -rf cdk.out
	$(CDK) synth --quiet

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

pytest: setup
	$(BIN)/pytest

test: lint typecheck pytest

bench: setup
	$(BIN)/python benchmarks/synth_overhead.py
	$(BIN)/python benchmarks/local_kit.py
	$(BIN)/python benchmarks/slack_layer_cold_start.py

clean:
	rm -rf cdk.out .venv .venv-scan node_modules .pytest_cache .mypy_cache .ruff_cache dist build
