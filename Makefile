# Two commands matter on a fresh machine: `make plan STACK=dev` (the offline plan) and `make test`.
PYTHON ?= python3
STACK ?= dev
ENV ?= dev
VENV := venv
LS_VENV := .localstack-venv

.PHONY: lock lock-check docs help plan shards preview openapi schema dashboard policy test unit contract fuzz mutate mutate-sample lint bench bench-shards bench-authorizer smoke clean
.DEFAULT_GOAL := help

UV_DIR := .uv
UV := $(UV_DIR)/bin/uv
# uv never downloads an interpreter here: the machine's python3 builds both environments.
export UV_PYTHON_DOWNLOADS := never

# uv itself: the one package pip installs (hash-checked, tools/uv-requirements.txt); it installs everything else.
$(UV): tools/uv-requirements.txt
	@echo "Installing uv into $(UV_DIR)/ (first run only; about 2 s)..."
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes --upgrade --target $(UV_DIR) -r tools/uv-requirements.txt
	@touch $@

# Exactly uv.lock (--frozen: no resolution, no newer release); pyproject.toml declares, `make lock` re-locks.
# Cold (no package cache) on the 2-core machine: docs "Installing" has the measured figures.
$(VENV)/.installed: pyproject.toml uv.lock $(UV)
	@echo "Installing the program's packages from uv.lock into $(VENV)/ (first run only; a few seconds, ~450 MB)..."
	@start=$$(date +%s); UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --quiet --python $(PYTHON) \
	  && echo "  $(VENV)/ ready in $$(( $$(date +%s) - start )) s"
	@touch $@

# LocalStack gets a virtualenv of its own: its pinned dependencies clash with the program's.
$(LS_VENV)/.installed: requirements-localstack.txt $(UV)
	@echo "Installing LocalStack from requirements-localstack.txt into $(LS_VENV)/ for the contract tests (first run only; under a minute)..."
	@start=$$(date +%s); $(UV) venv --quiet --allow-existing --python $(PYTHON) $(LS_VENV) \
	  && $(UV) pip sync --quiet --require-hashes --python $(LS_VENV)/bin/python requirements-localstack.txt \
	  && echo "  $(LS_VENV)/ ready in $$(( $$(date +%s) - start )) s"
	@touch $@

help:  ## this list: every target with what it does
	@awk -F ':.*## ' '/^[a-z][a-z-]*:.*## / { printf "  %-17s %s\n", $$1, $$2 }' $(MAKEFILE_LIST) | sed 's/\$$(STACK)/$(STACK)/g; s/\$$(ENV)/$(ENV)/g'


plan: $(VENV)/.installed  ## what `pulumi up --stack $(STACK)` would create, without a cloud
	$(VENV)/bin/python -m tools.plan --stack $(STACK)$(if $(STACK_FILE), --stack-file $(STACK_FILE))

shards: $(VENV)/.installed  ## the environment $(ENV): its platform and tenant shards, tenant counts, quota headroom
	$(VENV)/bin/python -m tools.shards --env $(ENV)

# The tool exits 0: no change, 2: changes, 1: error. A change is not an error: `|| [ $? -eq 2 ]` makes its 2 a
# success for make, which would otherwise print `*** [...] Error 2` (make prints that line for every failing
# recipe, and exits 2 whatever the recipe's status). Scripts wanting 0/2/1 call the tool itself (README).
preview: $(VENV)/.installed  ## what `pulumi up --stack $(STACK)` would change: the stack file (or STACK_FILE=path) at HEAD (or BASE=path) vs now
	$(VENV)/bin/python -m tools.preview --stack $(STACK)$(if $(STACK_FILE), --stack-file $(STACK_FILE))$(if $(BASE), --base $(BASE)) || [ $$? -eq 2 ]

dashboard: $(VENV)/.installed  ## the CloudWatch dashboard body for $(STACK), checked and written to build/dashboard-$(STACK).json
	$(VENV)/bin/python -m tools.dashboard --stack $(STACK)

openapi: $(VENV)/.installed  ## the API's OpenAPI document for $(STACK), written to build/openapi-$(STACK).json
	$(VENV)/bin/python -m tools.openapi --stack $(STACK)

# The committed schema is what `pulumi package add` users get; tests/test_schema.py fails until this is re-run.
schema: $(VENV)/.installed  ## the component package's schema, inferred from components/, written to plugin/schema.json
	$(VENV)/bin/python -m tools.schema

policy: $(VENV)/.installed  ## every rule of the policy pack (policy/) over the dev and prod graphs; fails on a violation
	$(VENV)/bin/python -m policy.check

# The tests keep Python's compiled bytecode in build/pycache, whatever PYTHONDONTWRITEBYTECODE says: without it
# every worker, and every program a test starts, compiles pulumi_aws's modules again and pytest rewrites every test
# module again, about 3 s of CPU a process. Not for `make mutate`: a mutant written in the same second as another
# of the same size would be served the other's bytecode (pyc files are checked by source mtime and size).
TEST_BYTECODE := PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX=$(CURDIR)/build/pycache

test: $(VENV)/.installed $(LS_VENV)/.installed  ## every test: mock engine and LocalStack contract tests
	$(TEST_BYTECODE) $(VENV)/bin/python -m pytest

# Two workers on a 2-core machine (-n auto: one per core), each test file on one worker, so a module's shared
# runs are made once; the longest files first, in tests/conftest.py's order (not xdist's most-tests-first), so
# both workers finish together. The contract tests stay in one process (one LocalStack).
unit: $(VENV)/.installed  ## the mock-engine tests only
	$(TEST_BYTECODE) $(VENV)/bin/python -m pytest -n auto --dist loadfile --no-loadscope-reorder --ignore=tests/contract

contract: $(VENV)/.installed $(LS_VENV)/.installed  ## the LocalStack contract tests only
	$(TEST_BYTECODE) $(VENV)/bin/python -m pytest tests/contract

fuzz: $(VENV)/.installed  ## the config property tests with 5,000 examples each (every commit runs 200)
	HYPOTHESIS_PROFILE=fuzz $(VENV)/bin/python -m pytest -q -p no:cacheprovider tests/test_config_properties.py

# Slow (hundreds of mutants, each a test run): outside CI. JOBS copies at a time; CONTRACT=1 also runs the contract
# suite for each mutant the unit tests let survive. Survivors and their diffs: build/mutation/<file>.txt; after adding
# tests, `venv/bin/python -m tools.mutate <file> --survivors build/mutation/<file>.txt` re-runs just those.
mutate: $(VENV)/.installed  ## mutation testing of the authorizer handler, tenancy and tenant keys: killed/survived/timed out per file
	$(VENV)/bin/python -m tools.mutate --jobs $(or $(JOBS),1) $(if $(CONTRACT),--contract)

# CI: a fixed spread of four handler mutants, so the mutation machinery cannot rot unnoticed.
mutate-sample: $(VENV)/.installed  ## four fixed handler mutants through the mutation machinery (CI runs this)
	$(VENV)/bin/python -m tools.mutate --sample 4 --check functions/tenant_authorizer/handler.py

# The Lambda code and the policy pack are type-checked as the separate programs they are (own top-level modules).
lint: $(VENV)/.installed  ## ruff (lint and format check) and mypy over the program, the Lambda code and the policy pack
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy functions/tenant_authorizer/handler.py
	MYPYPATH=policy $(VENV)/bin/mypy policy/__main__.py policy/rules.py policy/crossguard.py policy/check.py

bench: $(VENV)/.installed  ## program time and memory for 10 to 5,000 customers
	$(VENV)/bin/python -m tools.bench

bench-shards: $(VENV)/.installed  ## onboarding one tenant into a shard of 1,000 to 100,000-tenant environments, pooled and perTenant tiers, own domains
	$(VENV)/bin/python -m tools.bench_shards --key-mode pooled
	$(VENV)/bin/python -m tools.bench_shards --key-mode perTenant
	$(VENV)/bin/python -m tools.bench_shards --sizes 1000,10000 --key-mode pooled --own-domains

bench-authorizer: $(VENV)/.installed  ## tenant authorizer: decision p50/p99 over 10,000 calls, cold import time
	$(VENV)/bin/python -m tools.bench_authorizer

# Needs AWS credentials with the read permissions docs "Check it after the first deploy" lists.
smoke: $(VENV)/.installed  ## checks a deployed $(STACK): requests as its tenants, read-only AWS calls (OUTPUTS=<pulumi stack output --json file>)
	$(VENV)/bin/python -m tools.smoke --stack $(STACK) $(if $(OUTPUTS),--outputs $(OUTPUTS))

# The generated pages (config and component references, README's key list, the site's home and changelog) from
# their one source each, then the site with --strict: a broken link fails. tests/test_docs.py checks both.
docs: $(VENV)/.installed  ## the documentation site: regenerate the reference pages, build docs/ into build/site (strict)
	$(VENV)/bin/python -m tools.docs
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

# Re-resolve within pyproject.toml's ranges (newer releases), then remake every file made from the lock: the
# plugin's, policy pack's and example's requirements, the authorizer's pins and its arm64 wheels, LocalStack's set.
lock: $(UV)  ## take dependency updates: re-lock every environment within its declared ranges (docs "Dependencies")
	UV=$(UV) $(PYTHON) -m tools.lock

lock-check: $(UV)  ## fail when a lock is stale against its declaration (CI runs this)
	UV=$(UV) $(PYTHON) -m tools.lock --check

clean:  ## remove both virtualenvs and the tools' caches
	rm -rf $(VENV) $(LS_VENV) $(UV_DIR) .pytest_cache .mypy_cache .ruff_cache build/pycache
