#!/usr/bin/env python3
"""Counting + encoding wall time with 1, 2, ... threads (the passes before training), and
the C tool's vocabulary pass on the same file, in one invocation.

    python bench/passes_speed.py --threads 1,2 --repeat 8 --out bench/results/passes.json
    python bench/passes_speed.py --threads 1,2,4,8,16      # on the 16-core machine

The thread counts run in rounds, the order reversed every other round, and each
round's 1-thread time over its n-thread time is a paired speed-up (their median and
range are reported beside best over best). Each w2v run is a fresh process (bench/drivers/w2v_passes.py): ``w2v.vocab.build`` with
the encoded corpus in memory; the figures are the passes' own seconds (no interpreter
start-up) and the whole process's. The C tool has no encoding pass (it re-tokenises
every epoch): its row is its vocabulary pass alone (bench/vocab_speed.py explains how
it is stopped there). The file is read once first so every run reads from the page
cache. Default corpus: all of enwiki70m (70 M tokens).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as harness  # noqa: E402
import vocab_speed  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", default=None)
    p.add_argument("--lines", type=int, default=None)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--no-c", action="store_true")
    p.add_argument("--out", default=None)
    a = p.parse_args(argv)
    corpus = harness.prepare_corpus(a.corpus, lines=a.lines)
    with open(corpus.path, "rb") as f:                       # into the page cache
        while f.read(1 << 24):
            pass
    work = Path(tempfile.mkdtemp(prefix="w2v-passes-"))
    counts = [int(x) for x in a.threads.split(",")]
    runs = {n: [] for n in counts}
    # rounds: every thread count once per round, the order reversed every other round, so
    # that each n-thread run has a 1-thread run beside it in time (this VM drifts by 20-40%)
    for i in range(a.repeat):
        for n in (counts if i % 2 == 0 else counts[::-1]):
            argv_ = [sys.executable, str(harness.DRIVERS_DIR / "w2v_passes.py"), str(corpus.path),
                     "--threads", str(n)]
            m = harness.run_measured(argv_, work / f"w2v-{n}-{i}.log")
            text = Path(m.log).read_text()
            data = json.loads(text.strip().splitlines()[-1]) if m.ok else {"error": text[-500:]}
            runs[n].append(dict(data, wall_s=m.wall_s, peak_mb=m.peak_mb))
            print(f"[passes] w2v threads={n} round {i + 1}: {json.dumps(runs[n][-1])}")
    rows = []
    total = lambda r: r.get("total_seconds", float("inf"))  # noqa: E731
    for n in counts:
        row = {"tool": "w2v", "threads": n, "runs": runs[n],
               "best_total_s": min(map(total, runs[n])),
               "median_total_s": statistics.median(map(total, runs[n])),
               "best_count_s": min(r.get("count_seconds", float("inf")) for r in runs[n]),
               "best_encode_s": min(r.get("encode_seconds", float("inf")) for r in runs[n])}
        if 1 in runs and n != 1:
            ratios = [total(o) / total(r) for o, r in zip(runs[1], runs[n])]
            row["round_speedups"] = ratios
            row["median_round_speedup"] = statistics.median(ratios)
        rows.append(row)
    if not a.no_c:
        runs = []
        for i in range(a.repeat):
            try:
                argv_ = vocab_speed.command("c", corpus.path, 5, work)
            except harness.ToolUnavailable as e:
                print(f"[passes] C tool: {e}")
                break
            m = harness.run_measured(argv_, work / f"c-{i}.log")
            runs.append({"wall_s": m.wall_s, "peak_mb": m.peak_mb, "ok": m.ok})
            print(f"[passes] C tool vocabulary pass run {i + 1}: {runs[-1]}")
        if runs:
            rows.append({"tool": "c", "threads": 1, "runs": runs,
                         "best_total_s": min(r["wall_s"] for r in runs)})
    base = next((r["best_total_s"] for r in rows if r["tool"] == "w2v" and r["threads"] == 1), None)
    print(f"\ncorpus: {corpus.path} ({corpus.tokens:,} tokens, {corpus.bytes / 1e6:.0f} MB)")
    print("| run | count s | encode s | count + encode s (best) | speed-up, best over best | "
          "speed-up, median of rounds (range) | MB/s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        label = f"w2v, {r['threads']} thread(s)" if r["tool"] == "w2v" else "C tool, vocabulary pass only"
        speed = f"{base / r['best_total_s']:.2f}x" if base and r["tool"] == "w2v" else ""
        rounds = (f"{r['median_round_speedup']:.2f}x ({min(r['round_speedups']):.2f}-"
                  f"{max(r['round_speedups']):.2f})" if "round_speedups" in r else "")
        print(f"| {label} | {r.get('best_count_s', float('nan')):.2f} | "
              f"{r.get('best_encode_s', float('nan')):.2f} | {r['best_total_s']:.2f} | {speed} | "
              f"{rounds} | {corpus.bytes / 1e6 / r['best_total_s']:.0f} |")
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps({"machine": harness.machine_info(), "corpus": str(corpus.path),
                                           "tokens": corpus.tokens, "rows": rows, "argv": sys.argv},
                                          indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
