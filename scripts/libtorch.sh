#!/usr/bin/env bash
# Prints the LibTorch folder to build against, installing it first if needed.
# An existing $LIBTORCH (a folder with lib/libtorch_cpu.so) is used as is.
# Otherwise LibTorch lives under $SLFSIM_CACHE (default ~/.cache/slfsim),
# shared by every clone and CI run, in one of two forms:
# - lean, installed by default: the C++ part of PyPI's torch==$TORCH_VERSION
#   wheel (include/ and the libraries a CPU build loads), fetched without its
#   dependency tree, plus libcudart and libcupti from their own wheels at the
#   versions torch pins (libtorch_cpu.so needs them even on a CPU), in
#   $cache/libtorch-$TORCH_VERSION: about 0.5 GB. Before use, a small C++
#   program compiled against it runs a tensor operation.
# - full: torch==$TORCH_VERSION with all its dependencies in a virtual
#   environment, $cache/venv: about 4.7 GB. Installed when the lean one fails
#   its check, or with SLFSIM_TORCH=full.
# SLFSIM_TORCH unset prefers the lean folder, then an existing venv (older
# installs keep working), and installs the lean one when neither exists;
# SLFSIM_TORCH=lean or full uses, or installs, only that one.
# All messages go to stderr; the folder goes to stdout.
set -euo pipefail
TORCH_VERSION=2.13.0   # tch 0.26 checks this exact version
if [[ -n "${LIBTORCH:-}" ]]; then
  if [[ -e "$LIBTORCH/lib/libtorch_cpu.so" ]]; then echo "$LIBTORCH"; exit 0; fi
  echo "LIBTORCH=$LIBTORCH has no lib/libtorch_cpu.so; unset it to let slfsim install torch==$TORCH_VERSION" >&2
  exit 1
fi
mode="${SLFSIM_TORCH:-auto}"
case "$mode" in
  auto | lean | full) ;;
  *) echo "SLFSIM_TORCH=$mode: expected lean or full (or unset)" >&2; exit 1 ;;
esac
cache="${SLFSIM_CACHE:-$HOME/.cache/slfsim}"
lean="$cache/libtorch-$TORCH_VERSION"
venv="$cache/venv"
mkdir -p "$cache"

# --- full: today's virtual environment ---------------------------------------
# Prints the venv's torch folder if it holds torch==$TORCH_VERSION; reads the
# package metadata instead of importing torch, which takes seconds.
torch_dir() {
  [[ -x "$venv/bin/python" ]] && "$venv/bin/python" - "$TORCH_VERSION" 2>/dev/null <<'PY'
import importlib.metadata, importlib.util, os, sys
d = importlib.util.find_spec("torch").submodule_search_locations[0]
assert importlib.metadata.version("torch").split("+")[0] == sys.argv[1]
assert os.path.exists(os.path.join(d, "lib", "libtorch_cpu.so"))
print(d)
PY
}
have_full() { torch_dir >/dev/null; }
install_full() {
  echo "slfsim: installing torch==$TORCH_VERSION with all its dependencies into $venv (first time only; about 4.7 GB)..." >&2
  command -v python3 >/dev/null || { echo "slfsim: python3 is needed to install LibTorch" >&2; exit 1; }
  [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --disable-pip-version-check --progress-bar off "torch==$TORCH_VERSION" >&2
  have_full && "$venv/bin/python" -c 'import torch' 2>/dev/null ||
    { echo "slfsim: torch==$TORCH_VERSION did not install into $venv" >&2; exit 1; }
}

# --- lean: the wheel's C++ part and the two CUDA libraries it loads ----------
# Folder exists => complete: it is only ever created by renaming a checked one.
have_lean() { [[ -e "$lean/torch/lib/libtorch_cpu.so" ]]; }
# Prints a wheel's Requires-Dist entries, one a line.
requires() {
  python3 - "$1" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as w:
    meta = next(n for n in w.namelist() if n.endswith(".dist-info/METADATA"))
    for line in w.read(meta).decode().splitlines():
        if line.startswith("Requires-Dist:"):
            print(line.split(":", 1)[1].strip())
PY
}
# Extracts the members of wheel $1 whose paths match one of the shell patterns
# $3... into folder $2, keeping their permissions.
extract() {
  python3 - "$@" <<'PY'
import fnmatch, os, sys, zipfile
wheel, dest, patterns = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as w:
    for m in w.infolist():
        if not m.is_dir() and any(fnmatch.fnmatchcase(m.filename, p) for p in patterns):
            os.chmod(w.extract(m, dest), (m.external_attr >> 16) & 0o777 or 0o644)
PY
}
# Compiles a tensor operation against LibTorch folder $1 the way torch-sys does
# (headers, -ltorch -ltorch_cpu -lc10, rpath, no LD_LIBRARY_PATH) and runs it.
# libstdc++ comes first, as in rustc's link line; otherwise the program binds
# libtorch.so's weak std symbols and then needs the absent libtorch_cuda.so.
check_lean() {
  local t="$1" work="$2"
  if ldd "$t/lib/libtorch_cpu.so" | grep -q "not found"; then
    echo "slfsim: libtorch_cpu.so misses libraries:" >&2
    ldd "$t/lib/libtorch_cpu.so" | grep "not found" >&2
    return 1
  fi
  cat >"$work/check.cpp" <<'CPP'
#include <ATen/core/Tensor.h>
#include <ATen/ops/arange.h>
int main() {
  at::Tensor a = at::arange(4, at::kFloat).reshape({2, 2});
  return a.matmul(a).sum().item<float>() == 22.0f ? 0 : 1;  // [[2,3],[6,11]]
}
CPP
  $cxx -w -std=c++17 -D_GLIBCXX_USE_CXX11_ABI=1 -DGLOG_USE_GLOG_EXPORT -I"$t/include" \
    "$work/check.cpp" -o "$work/check" -L"$t/lib" -Wl,--as-needed -Wl,-rpath,"$t/lib" \
    -lstdc++ -ltorch -ltorch_cpu -lc10 -lgomp >&2
  env -u LD_LIBRARY_PATH "$work/check" >&2
}
# Runs in a subshell with its own `set -e` and EXIT trap (cleans the scratch folder).
install_lean() {
  echo "slfsim: installing LibTorch $TORCH_VERSION into $lean (first time only; lean: about 0.5 GB)..." >&2
  rm -rf "$lean".tmp.*   # left by an interrupted install (we hold the lock)
  tmp="$(mktemp -d "$lean.tmp.XXXXXX")"   # global: the EXIT trap reads it
  trap 'rm -rf "$tmp"' EXIT
  # pip in a throwaway venv; nothing is installed into it.
  python3 -m venv "$tmp/pip" >&2
  pip() { "$tmp/pip/bin/python" -m pip --disable-pip-version-check "$@"; }
  download() { pip download --no-deps --no-cache-dir --progress-bar off -d "$tmp/wheels" "$@" >&2; }
  download "torch==$TORCH_VERSION"
  local torch_whl toolkit cudart cupti
  torch_whl="$(echo "$tmp"/wheels/torch-*.whl)"
  # torch pins cuda-toolkit[...]==V; cuda-toolkit pins each library by extra.
  toolkit="$(requires "$torch_whl" | sed -n 's/^cuda-toolkit\[[^]]*\] *\(==[^;]*\).*/cuda-toolkit\1/p')"
  [[ -n "$toolkit" ]] || { echo "slfsim: torch==$TORCH_VERSION does not pin cuda-toolkit" >&2; exit 1; }
  download "$toolkit"
  pin() { requires "$tmp"/wheels/cuda_toolkit-*.whl | sed -n "s/^\($1 *==[^;]*\);.*extra == '$2'.*/\1/p" | head -1; }
  cudart="$(pin nvidia-cuda-runtime cudart)"
  cupti="$(pin nvidia-cuda-cupti cupti)"
  [[ -n "$cudart" && -n "$cupti" ]] || { echo "slfsim: $toolkit does not pin cudart and cupti" >&2; exit 1; }
  download "$cudart" "$cupti"
  local root="$tmp/root"
  extract "$torch_whl" "$root" 'torch/include/*' torch/lib/libtorch_cpu.so torch/lib/libc10.so \
    torch/lib/libtorch.so 'torch/lib/libgomp.so*'
  # libtorch_cpu.so finds these through its rpath $ORIGIN/../../nvidia/cu13/lib.
  for w in "$tmp"/wheels/nvidia_cuda_*.whl; do
    extract "$w" "$root" 'nvidia/*/lib/libcudart.so.*' 'nvidia/*/lib/libcupti.so.*'
  done
  echo "$TORCH_VERSION" >"$root/torch/build-version"   # torch-sys checks it
  echo "slfsim: checking the lean LibTorch (compiles and runs a tensor operation)..." >&2
  check_lean "$root/torch" "$tmp"
  mv "$root" "$lean"
  echo "slfsim: installed $(du -sh "$lean" | cut -f1) into $lean ($toolkit: $cudart, $cupti)" >&2
}

# One installer at a time across clones; the others wait and reuse its result.
exec 9>"$cache/install.lock"
flock 9
if [[ "$mode" == full ]] || { [[ "$mode" == auto ]] && ! have_lean && have_full; }; then
  have_full || install_full
  torch_dir
  exit 0
fi
if ! have_lean; then
  command -v python3 >/dev/null || { echo "slfsim: python3 is needed to install LibTorch" >&2; exit 1; }
  cxx="${CXX:-c++}"   # may carry a wrapper or flags, e.g. "ccache g++"
  command -v ${cxx%% *} >/dev/null || { echo "slfsim: a C++ compiler ($cxx) is needed to build against LibTorch" >&2; exit 1; }
  # `set -e` does not apply inside a function called as a condition, so the
  # install runs as a plain command in a subshell and its status is read after.
  set +e
  (set -e; install_lean)
  status=$?
  set -e
  if [[ $status -ne 0 ]]; then
    if [[ "$mode" == lean ]]; then echo "slfsim: the lean LibTorch install failed (SLFSIM_TORCH=lean)" >&2; exit 1; fi
    echo "slfsim: the lean LibTorch install failed; falling back to the full one" >&2
    have_full || install_full
    torch_dir
    exit 0
  fi
fi
echo "$lean/torch"
