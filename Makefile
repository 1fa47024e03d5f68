# Lobby: every target creates the virtualenv it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= examples/demo.toml
DB ?= var/lobby.db
HOST ?= 127.0.0.1
PORT ?= 8080
SERVER ?= http://$(HOST):$(PORT)

.PHONY: run test bench lint kiosk counter display system-deps clean demo-db kiosk-screenshots

$(BIN)/lobby: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

# Debian packages: espeak-ng speaks announcements, chromium runs the page tests,
# DejaVu gives ticket previews their accented letters, and cage is the display unit's
# kiosk compositor (systemd-analyze checks that every unit's command exists).
DEBIAN_PACKAGES := espeak-ng chromium fonts-dejavu-core cage
system-deps:
	@command -v espeak-ng >/dev/null && command -v chromium >/dev/null && \
	  command -v cage >/dev/null && \
	  [ -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ] || \
	  { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	    $$SUDO apt-get update -q && $$SUDO apt-get install -y -q $(DEBIAN_PACKAGES); }

demo-db: $(BIN)/lobby
	@mkdir -p var
	@$(BIN)/lobby demo-setup --config $(CONFIG) --db $(DB)

run: $(BIN)/lobby demo-db
	$(BIN)/lobby serve --config $(CONFIG) --db $(DB) --host $(HOST) --port $(PORT)

kiosk: $(BIN)/lobby
	$(BIN)/lobby kiosk --server $(SERVER) --token $$(cat var/demo-kiosk.token) --printer preview:var/tickets

counter: $(BIN)/lobby
	$(BIN)/lobby counter --server $(SERVER) --counter $${COUNTER:-w1}

display: $(BIN)/lobby
	$(BIN)/lobby display --server $(SERVER) --token $$(cat var/demo-display.token)

test: $(BIN)/lobby system-deps
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest -q

bench: $(BIN)/lobby
	$(BIN)/python -m benchmarks

lint: $(BIN)/lobby
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var

# Redraw the kiosk pictures in docs/ from a fixed sample office.
kiosk-screenshots: $(BIN)/lobby
	$(BIN)/python -m kiosk.screenshots docs
