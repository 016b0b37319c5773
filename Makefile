# Two commands on a fresh machine: `make run` and `make test`. Both install
# LibTorch first if needed (scripts/libtorch.sh: the C++ part of PyPI's
# torch==2.13.0, about 0.5 GB, into ~/.cache/slfsim, shared by every clone;
# SLFSIM_TORCH=full installs the whole torch instead; an existing $LIBTORCH
# is used as is).
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
# Honour CARGO_TARGET_DIR like cargo does.
BIN = $(or $(CARGO_TARGET_DIR),target)/release/slfsim

.PHONY: setup build run test lint bench train clean

setup:
	@$(TORCH) echo "LibTorch: $$LIBTORCH"

build:
	@$(TORCH) cargo build --release --locked

# The main job: the quickstart scenario with the shipped checkpoints.
run: build
	$(BIN) run scenarios/quickstart.ron

# Default tests plus the real-data acceptance checks (release build: the
# tests run real networks).
test:
	@$(TORCH) cargo test --release --locked

# Retrain all 12 shipped checkpoints (about 50 minutes on 2 cores; the paper
# scenario names every shipped profile). 2 threads, as they were made.
train: build
	$(BIN) --threads 2 train scenarios/paper/two_user.ron --force

# Formatting and lints as CI checks them (clippy with warnings as errors).
lint:
	cargo fmt --check
	@$(TORCH) cargo clippy --release --all-targets --locked -- -D warnings

bench:
	@$(TORCH) cargo bench --locked

clean:
	cargo clean
