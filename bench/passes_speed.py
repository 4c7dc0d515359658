#!/usr/bin/env python3
"""Counting + encoding wall time with 1, 2, ... threads (the passes before training), and
the C tool's vocabulary pass on the same file, in one invocation.

    python bench/passes_speed.py --threads 1,2 --repeat 3 --out bench/results/passes.json
    python bench/passes_speed.py --threads 1,2,4,8,16      # on the 16-core machine

Each w2v run is a fresh process (bench/drivers/w2v_passes.py): ``w2v.vocab.build`` with
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
    rows = []
    for n in [int(x) for x in a.threads.split(",")]:
        runs = []
        for i in range(a.repeat):
            argv_ = [sys.executable, str(harness.DRIVERS_DIR / "w2v_passes.py"), str(corpus.path),
                     "--threads", str(n)]
            m = harness.run_measured(argv_, work / f"w2v-{n}-{i}.log")
            text = Path(m.log).read_text()
            data = json.loads(text.strip().splitlines()[-1]) if m.ok else {"error": text[-500:]}
            runs.append(dict(data, wall_s=m.wall_s, peak_mb=m.peak_mb))
            print(f"[passes] w2v threads={n} run {i + 1}: {json.dumps(runs[-1])}")
        rows.append({"tool": "w2v", "threads": n, "runs": runs,
                     "best_total_s": min(r.get("total_seconds", float("inf")) for r in runs),
                     "median_total_s": statistics.median(r.get("total_seconds", float("inf"))
                                                         for r in runs),
                     "best_count_s": min(r.get("count_seconds", float("inf")) for r in runs),
                     "best_encode_s": min(r.get("encode_seconds", float("inf")) for r in runs)})
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
    print("| run | count s | encode s | count + encode s (best) | speed-up over 1 thread | MB/s |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        label = f"w2v, {r['threads']} thread(s)" if r["tool"] == "w2v" else "C tool, vocabulary pass only"
        speed = f"{base / r['best_total_s']:.2f}x" if base and r["tool"] == "w2v" else ""
        print(f"| {label} | {r.get('best_count_s', float('nan')):.2f} | "
              f"{r.get('best_encode_s', float('nan')):.2f} | {r['best_total_s']:.2f} | {speed} | "
              f"{corpus.bytes / 1e6 / r['best_total_s']:.0f} |")
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps({"machine": harness.machine_info(), "corpus": str(corpus.path),
                                           "tokens": corpus.tokens, "rows": rows, "argv": sys.argv},
                                          indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
