# The two set-up commands of the README: `make run` serves the emulator, `make test` runs the
# tests. Both create .venv and install what they need on first use (and again when
# pyproject.toml changes).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell $(PYTHON) -c "import hashlib,sys;print(hashlib.sha1(open('pyproject.toml','rb').read()).hexdigest()[:12])")
ARGS ?=

.PHONY: run test lint bench bench-inbox bench-smpp soak clean

# Some machines set PYTHONDONTWRITEBYTECODE, so every process (each test worker and each
# `sms-emulator` subprocess a test starts) would compile aiohttp, jsonschema, Hypothesis...
# from source again; letting the first one write .pyc files saves most of a second per process.
unexport PYTHONDONTWRITEBYTECODE

# uv (from PyPI) installs the project and its test tools in about two seconds, where pip takes
# twenty; pip stays in the venv for the one test that downloads a source distribution.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check 'uv>=0.4'
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/sms-emulator serve $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python bench/messaging_bench.py $(ARGS)

# the inbox page in headless Chromium (Playwright, an installed browser, see README)
bench-inbox: $(STAMP)
	$(BIN)/python bench/inbox_bench.py $(ARGS)

# submit_sm over one bound SMPP session against POST /v1/messaging, in one emulator
bench-smpp: $(STAMP)
	$(BIN)/python bench/smpp_bench.py $(ARGS)

# bounded (--messages, --max-seconds) and loopback only; a million messages by default
soak: $(STAMP)
	$(BIN)/python bench/soak.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
