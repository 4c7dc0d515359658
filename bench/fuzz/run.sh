#!/bin/sh
# Fuzz each TARGET for SECONDS; logs in bench/fuzz/logs/TARGET.log, findings (crash-*,
# timeout-*, oom-*) in bench/fuzz/, the grown corpus in bench/fuzz/corpus/TARGET/.
#   bench/fuzz/run.sh 300 bin txt model detect corpus
# Run it with the Python that has w2v and atheris installed first on PATH (or PYTHON=...).
set -u
here=$(cd "$(dirname "$0")" && pwd)
seconds=$1; shift
python=${PYTHON:-python3}
mkdir -p "$here/logs"
[ -d "$here/corpus" ] || "$python" "$here/make_seeds.py" --out "$here/corpus"
for target in "$@"; do
    scratch=$(mktemp -d /dev/shm/w2v-fuzz-XXXXXX 2>/dev/null || mktemp -d)
    dict=""
    [ "$target" = model ] && dict="-dict=$here/model.dict"
    W2V_FUZZ_SCRATCH=$scratch "$python" "$here/fuzz_readers.py" "$target" \
        -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$here/" $dict "$here/corpus/$target" \
        >"$here/logs/$target.log" 2>&1
    rc=$?
    rm -rf "$scratch"
    echo "$target: exit $rc; $(grep -E '^#[0-9]+' "$here/logs/$target.log" | tail -1)"
    grep -E '^Done|stat::number_of_executed_units' "$here/logs/$target.log" | tail -2
done
