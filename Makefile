# Two commands on a fresh machine: `make run` and `make test`. Both install
# LibTorch first if needed (PyPI torch==2.13.0 into ~/.cache/slfsim/venv,
# shared by every clone; an existing $LIBTORCH is used as is).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run

# Full data sets: $SLFSIM_DATA if set, else ../shared/data when it exists;
# otherwise the binary falls back to the small subsets in ./data.
ifeq ($(strip $(SLFSIM_DATA)),)
ifneq ($(wildcard ../shared/data/mnist),)
export SLFSIM_DATA := $(abspath ../shared/data)
endif
endif

# Sets LIBTORCH for the recipe line it prefixes.
TORCH = LIBTORCH="$$(scripts/libtorch.sh)"; export LIBTORCH;
BIN = target/release/slfsim

.PHONY: setup build run test bench train clean

setup:
	@$(TORCH) echo "LibTorch: $$LIBTORCH"

build:
	@$(TORCH) cargo build --release --locked

# The main job: the quickstart scenario with the shipped checkpoints.
run: build
	$(BIN) eval scenarios/quickstart.ron

# Default tests plus the real-data acceptance checks (release build: the
# tests run real networks).
test:
	@$(TORCH) cargo test --release --locked

# Retrain the shipped checkpoints (about 25 minutes on 2 cores).
train: build
	$(BIN) train scenarios/transceivers.ron --force
	$(BIN) train scenarios/quickstart.ron

bench:
	@$(TORCH) cargo bench --locked

clean:
	cargo clean
