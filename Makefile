# Two commands do all the set-up on a fresh machine:
#   make synth   -> .venv with the CDK libraries + node_modules, then `cdk synth` of every example stack into cdk.out/
#   make test    -> the development tools on top, then ruff, mypy and the whole pytest suite (which builds the docs)
# make test-floor runs the unit and execution tests against the lowest versions pyproject.toml declares (.venv-floor).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The template scanners (cfn-lint, checkov) live in their own venv: checkov pins an older boto3 than the tests use.
SCAN_VENV := .venv-scan
FLOOR_VENV := .venv-floor
CDK := node_modules/.bin/cdk

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export AWS_EC2_METADATA_DISABLED := true
# Byte code kept (__pycache__/, gitignored; the library's assets exclude it): where the machine sets
# PYTHONDONTWRITEBYTECODE, every process compiles every module of the repository again (docs/performance.md).
export PYTHONDONTWRITEBYTECODE :=
export PATH := $(CURDIR)/$(BIN):$(PATH)
# mkdocs-material prints a banner about its successor on every build; the build itself fetches nothing.
export NO_MKDOCS_2_WARNING := 1

.PHONY: setup synth test test-floor lint typecheck pytest bench clean diagrams docs scan conformance-table

setup: $(VENV)/.installed $(SCAN_VENV)/.installed node_modules/.installed

# What synth needs only (the CDK libraries and cdk-nag): a first `make synth` installs no more.
$(VENV)/.synth-installed: requirements-synth.txt requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-synth.txt -c requirements.lock
	touch $@

$(VENV)/.installed: $(VENV)/.synth-installed requirements-dev.txt requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c requirements.lock
	# mypy's cache of the pinned third-party packages (aws-cdk-lib's stubs are ~48 s of a cold run), built once here
	$(BIN)/mypy .ci/mypy_warmup.py
	touch $@

$(SCAN_VENV)/.installed: requirements-scan.txt requirements-scan.lock
	test -x $(SCAN_VENV)/bin/python || $(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-scan.txt -c requirements-scan.lock
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

synth: $(VENV)/.synth-installed node_modules/.installed
	rm -rf cdk.out
	$(CDK) synth --quiet

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

# One pytest worker per core; a test file stays on one worker (module fixtures are built once).
PYTEST_ARGS ?= -n auto --dist loadfile

pytest: setup
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

# The lowest declared versions (requirements-floor.txt) in their own venv: every construct's synth and the kit's runs
# of every example stack. The snapshots are left out: another aws-cdk-lib may render details differently.
FLOOR_TESTS ?= tests/unit tests/execution --deselect tests/unit/test_example_stacks.py::test_snapshot
$(FLOOR_VENV)/.installed: requirements-floor.txt
	test -x $(FLOOR_VENV)/bin/python || $(PYTHON) -m venv $(FLOOR_VENV)
	$(FLOOR_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-floor.txt
	touch $@

test-floor: $(FLOOR_VENV)/.installed node_modules/.installed
	$(FLOOR_VENV)/bin/python -c "import aws_cdk, cdk_nag, moto, boto3; print('floor:', 'aws-cdk-lib', aws_cdk.__version__ if hasattr(aws_cdk, '__version__') else '?', 'moto', moto.__version__, 'boto3', boto3.__version__)"
	PATH=$(CURDIR)/$(FLOOR_VENV)/bin:$$PATH $(FLOOR_VENV)/bin/pytest -p no:cacheprovider $(PYTEST_ARGS) $(FLOOR_TESTS)

# Every benchmark in benchmarks/ (exit 1: a target missed, 2: could not measure); README "Performance" shows them
bench: setup
	$(BIN)/python benchmarks/run_all.py

# The template scanners by hand (make test runs them too, in tests/test_scanners.py): configs in .cfnlintrc.yaml and
# .checkov.yaml; the variable stops checkov's update check, the one network call --skip-download leaves.
scan: synth
	$(SCAN_VENV)/bin/cfn-lint
	CKV_SKIP_PACKAGE_UPDATE_CHECK=true $(SCAN_VENV)/bin/checkov -d cdk.out

# Pictures of every example stack and state machine from a fresh synth (tests/test_diagrams.py checks they are current)
diagrams: synth
	$(BIN)/python -m tools.diagram cdk.out --out docs/diagrams

# docs/conformance.md from the conformance suite's docstrings (tests/repository/test_conformance_table.py checks it)
conformance-table:
	$(BIN)/python -m tools.conformance_table

# The documentation site (MkDocs + Material, API reference by mkdocstrings) into site/ (gitignored), offline.
# --strict: a broken link or anchor, a page missing from the nav, a missing snippet or a griffe warning fails it.
# make test builds it too (tests/repository/test_docs.py), into a temporary folder.
docs: setup
	$(BIN)/mkdocs build --strict

clean:
	rm -rf cdk.out site .venv .venv-scan node_modules .pytest_cache .mypy_cache .ruff_cache dist build
