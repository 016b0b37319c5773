#!/usr/bin/env bash
# Prints the LibTorch folder to build against, installing it first if needed.
# An existing $LIBTORCH (a folder with lib/libtorch_cpu.so) is used as is.
# Otherwise PyPI's torch==$TORCH_VERSION goes into a virtual environment under
# $SLFSIM_CACHE (default ~/.cache/slfsim), shared by every clone and CI run;
# the first install downloads several GB. All messages go to stderr.
set -euo pipefail
TORCH_VERSION=2.13.0   # tch 0.26 checks this exact version
if [[ -n "${LIBTORCH:-}" ]]; then
  if [[ -e "$LIBTORCH/lib/libtorch_cpu.so" ]]; then echo "$LIBTORCH"; exit 0; fi
  echo "LIBTORCH=$LIBTORCH has no lib/libtorch_cpu.so; unset it to let slfsim install torch==$TORCH_VERSION" >&2
  exit 1
fi
cache="${SLFSIM_CACHE:-$HOME/.cache/slfsim}"
venv="$cache/venv"
mkdir -p "$cache"
torch_dir() { "$venv/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null; }
have() { [[ -x "$venv/bin/python" ]] && [[ "$("$venv/bin/python" -c 'import torch; print(torch.__version__.split("+")[0])' 2>/dev/null)" == "$TORCH_VERSION" ]]; }
# One installer at a time across clones; the others wait and reuse its result.
exec 9>"$cache/install.lock"
flock 9
if ! have; then
  echo "slfsim: installing torch==$TORCH_VERSION into $venv (first time only; several GB)..." >&2
  command -v python3 >/dev/null || { echo "slfsim: python3 is needed to install LibTorch" >&2; exit 1; }
  [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --disable-pip-version-check --progress-bar off "torch==$TORCH_VERSION" >&2
  have || { echo "slfsim: torch==$TORCH_VERSION did not install into $venv" >&2; exit 1; }
fi
torch_dir
