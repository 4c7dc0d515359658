#!/bin/sh
# Line coverage reached by a target's grown corpus: each corpus file is run once,
# in-process, under coverage.py (pip install coverage). Prints, for every function of
# w2v/io.py, corpus.py and vocab.py that the inputs entered, its lines run / lines.
#   bench/fuzz/replay_coverage.sh TARGET
set -eu
here=$(cd "$(dirname "$0")" && pwd)
target=$1
python=${PYTHON:-python3}
data="$here/logs/.coverage.$target"
scratch=$(mktemp -d)
W2V_FUZZ_SCRATCH=$scratch "$python" -m coverage run --data-file="$data" \
    --include='*/w2v/io.py,*/w2v/corpus.py,*/w2v/vocab.py' \
    "$here/fuzz_readers.py" "$target" --replay "$here/corpus/$target"/* 2>/dev/null
rm -rf "$scratch"
"$python" -m coverage json --data-file="$data" -o "$here/logs/coverage-$target.json" -q
"$python" - "$here/logs/coverage-$target.json" <<'PY'
import json, sys
files = json.load(open(sys.argv[1]))["files"]
ran = total = 0
for path, f in sorted(files.items()):
    for name, fn in f["functions"].items():
        s = fn["summary"]
        if name and s["covered_lines"]:
            ran += s["covered_lines"]; total += s["num_statements"]
            print(f"  {path.rsplit('/', 1)[-1]}:{name:<24} {s['covered_lines']:>3}/{s['num_statements']:<3}"
                  f" {s['percent_covered']:5.1f}%")
print(f"  functions entered: {ran}/{total} lines = {100 * ran / max(total, 1):.1f}%")
PY
