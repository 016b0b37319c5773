#!/usr/bin/env bash
# Cuts the small embedded subsets in ./data from a full data root (default
# ../shared/data). Deterministic: gzip -9n stores no name or timestamp.
set -eu   # no pipefail: head closing early makes gunzip exit on SIGPIPE
S="${1:-../shared/data}"; D="${2:-data}"
NTRAIN=2000; NTEST=2000; CTEST=300; CBATCH=60
mkdir -p "$D/mnist" "$D/fashion-mnist" "$D/cifar-10-jpeg75"
be32() { printf "\\x$(printf %02x $(($1>>24&255)))\\x$(printf %02x $(($1>>16&255)))\\x$(printf %02x $(($1>>8&255)))\\x$(printf %02x $(($1&255)))"; }
cut_idx() { # src dst count kind(images|labels)
  local src=$1 dst=$2 n=$3
  if [[ $4 == images ]]; then
    { printf '\x00\x00\x08\x03'; be32 "$n"; printf '\x00\x00\x00\x1c\x00\x00\x00\x1c'
      gunzip -c "$src" | tail -c +17 | head -c $((n*784)); } | gzip -9n > "$dst"
  else
    { printf '\x00\x00\x08\x01'; be32 "$n"; gunzip -c "$src" | tail -c +9 | head -c "$n"; } | gzip -9n > "$dst"
  fi
}
for ds in mnist fashion-mnist; do
  cut_idx "$S/$ds/train-images-idx3-ubyte.gz" "$D/$ds/train-images-idx3-ubyte.gz" $NTRAIN images
  cut_idx "$S/$ds/train-labels-idx1-ubyte.gz" "$D/$ds/train-labels-idx1-ubyte.gz" $NTRAIN labels
  cut_idx "$S/$ds/t10k-images-idx3-ubyte.gz" "$D/$ds/t10k-images-idx3-ubyte.gz" $NTEST images
  cut_idx "$S/$ds/t10k-labels-idx1-ubyte.gz" "$D/$ds/t10k-labels-idx1-ubyte.gz" $NTEST labels
done
C="$S/cifar-10-jpeg75"   # records: 1 label byte + 3072 pixel bytes
head -c $((CTEST*3073)) "$C/test_batch.bin" | gzip -9n > "$D/cifar-10-jpeg75/test_batch.bin.gz"
for b in 1 2 3 4 5; do
  head -c $((CBATCH*3073)) "$C/data_batch_$b.bin" | gzip -9n > "$D/cifar-10-jpeg75/data_batch_$b.bin.gz"
done
cp "$C/batches.meta.txt" "$D/cifar-10-jpeg75/"
(cd "$D" && sha256sum */* > SHA256SUMS)
