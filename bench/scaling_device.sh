#!/bin/bash
# The thread-scaling run for the 16-core machine that is sometimes lent (no network there).
#
# It expects, beside the checkout (both ignored by git, carried to the machine):
#   .whl/     cp312 wheels of gensim 4.4.0, smart_open and fasttext-numpy2 0.10.4
#   .devdata/ enwiki8m.txt.xz (the first 8 M tokens of enwiki70m, whole lines) and
#             word2vec.c from the word2vec 0.11.1 sdist (what `pip install word2vec` compiles)
# and writes its tables, JSON and logs to $OUT (default bench/results).
#
#   OUT=... bash bench/scaling_device.sh
#
# One epoch per run, like the scaling table in ANCHORS.md; w2v's four modes first,
# then w2v against the anchors at ANCHORS.md's sizes (cbow-ns 8 M, sg-ns 3 M tokens)
# until the time budget (BUDGET seconds from the start, default 500) is spent.
set -o pipefail
export PYTHONUNBUFFERED=1
OUT=${OUT:-bench/results}
BUDGET=${BUDGET:-500}
mkdir -p "$OUT"
start=$(date +%s)
export PYTHONPATH=/tmp/site PATH=/tmp/bin:$PATH
{
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl &&
    mkdir -p /tmp/bin &&
    gcc .devdata/word2vec.c -o /tmp/bin/word2vec -lm -pthread -Ofast -Wall -march=native -funroll-loops \
        -Wno-unused-result &&
    python3 -m pip install -q --no-build-isolation --no-deps . &&
    nproc && python3 -c "import numpy, gensim, fasttext, w2v; print(numpy.__version__, gensim.__version__)"
} > "$OUT/setup.log" 2>&1 || { tail -30 "$OUT/setup.log"; exit 1; }
echo "set-up took $(( $(date +%s) - start )) s"

corpus=.devdata/enwiki8m.txt.xz
python3 bench/scaling.py --corpus $corpus --tools w2v --modes cbow-ns,sg-ns,cbow-hs,sg-hs \
    --tokens cbow-ns=8e6,sg-ns=8e6,cbow-hs=4e6,sg-hs=4e6 --timeout 120 \
    --out "$OUT/scaling-w2v.json" 2>&1 | tee "$OUT/scaling-w2v.log"

left=$(( BUDGET - ($(date +%s) - start) ))
python3 bench/scaling.py --corpus $corpus --tools w2v,c,gensim,fasttext --modes cbow-ns,sg-ns \
    --tokens cbow-ns=8e6,sg-ns=3e6 --timeout 90 --time-budget $left \
    --out "$OUT/scaling-anchors.json" 2>&1 | tee "$OUT/scaling-anchors.log"

tar czf "$OUT/run-logs.tar.gz" bench/.cache/runs 2>/dev/null
echo "total $(( $(date +%s) - start )) s"
