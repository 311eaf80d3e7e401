# fargo's two entry points: `make demo` and `make test`. Both set up what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

CHECKOV_VENV := .venv-checkov
CHECKOV_INSTALLED := $(CHECKOV_VENV)/.installed

.PHONY: demo test lint typecheck unit system-deps bench clean

$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(INSTALLED)

# checkov pins boto3 and packaging exactly: it gets a venv of its own.
$(CHECKOV_INSTALLED): scripts/checkov-requirements.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check \
		-r scripts/checkov-requirements.txt
	touch $(CHECKOV_INSTALLED)

# Debian packages the test suite runs for real (Postgres for the example app, ...).
system-deps:
	sh scripts/install-system-deps.sh scripts/apt-packages.txt

## Deploy examples/fullstack to the embedded emulator and print what it made.
demo: $(INSTALLED)
	@# buildah builds the example's Dockerfile; without it (no root to install it), the demo
	@# deploys the same image assembled as an OCI layout by the project's scripts. Podman runs
	@# the app; without it (nor Docker), the stacks are made and the demo says the app is not
	@# running.
	sh scripts/install-system-deps.sh scripts/demo-packages.txt \
		|| echo "continuing without some packages: the demo says what it skips"
	$(BIN)/python scripts/demo.py

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(INSTALLED)
	$(BIN)/mypy
	$(BIN)/mypy --strict examples/fullstack/app

## Lint, type-check and run every test (unit, golden, emulator, integration).
test: $(INSTALLED) $(CHECKOV_INSTALLED) system-deps lint typecheck
	$(BIN)/pytest

bench: $(INSTALLED)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/mutations.py
	$(BIN)/python bench/local_runtime.py

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .mypy_cache .ruff_cache .pytest_cache
