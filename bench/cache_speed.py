#!/usr/bin/env python3
"""Training speed from the disk cache against the same corpus in memory, paired.

This VM's speed drifts by 20-30% within minutes, more than the difference to measure,
so separate processes cannot show a few percent. Here one process holds the corpus
both ways (encoded in memory, and mapped from a cache entry; the same ids, checked)
and alternates one-epoch runs: memory, disk, memory, disk, ... Each pair's ratio is
taken between neighbours in time, of wall-clock words/s and of words per CPU-second of
the process (which the other guests of the host disturb less: time the hypervisor
gives them is not charged to this process); the median of each is reported.

    python bench/cache_speed.py --pairs 6 --out bench/results/cache-speed.json
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as harness  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", default=None)
    p.add_argument("--lines", type=int, default=None, help="default: the whole 70 M corpus")
    p.add_argument("--pairs", type=int, default=6)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default=None)
    a = p.parse_args(argv)
    from w2v.config import TrainConfig
    from w2v.engine import init_model
    from w2v.trainer import run_epochs
    from w2v.vocab import build
    corpus = harness.prepare_corpus(a.corpus, lines=a.lines)
    cache = tempfile.mkdtemp(prefix="w2v-cache-speed-")
    try:
        config = TrainConfig(threads=a.threads, epochs=1, corpus_cache="memory")
        vocab, in_memory = build(str(corpus.path), config)
        _, on_disk = build(str(corpus.path), TrainConfig(threads=a.threads, corpus_cache="disk",
                                                         cache_dir=cache))
        assert on_disk.mapped is not None
        assert np.array_equal(in_memory.units, on_disk.units)
        runs = []
        for i in range(a.pairs):
            for name, encoded in (("memory", in_memory), ("disk", on_disk)):
                model = init_model(config, vocab)
                cpu = time.process_time()
                run_epochs(model, encoded, 1)
                cpu = time.process_time() - cpu
                speed = model.history[-1]["words_per_sec"]
                per_cpu = model.history[-1]["words"] / cpu
                runs.append({"pair": i + 1, "corpus_cache": name, "words_per_sec": speed,
                             "cpu_seconds": cpu, "words_per_cpu_second": per_cpu})
                print(f"[cache-speed] pair {i + 1} {name}: {speed / 1e6:.2f} M words/s, "
                      f"{per_cpu / 1e6:.2f} M words per CPU-second", flush=True)
        ratios = [d["words_per_sec"] / m["words_per_sec"]
                  for m, d in zip(runs[0::2], runs[1::2])]
        cpu_ratios = [d["words_per_cpu_second"] / m["words_per_cpu_second"]
                      for m, d in zip(runs[0::2], runs[1::2])]
        summary = {"median_disk_over_memory": statistics.median(ratios),
                   "ratios": ratios,
                   "median_disk_over_memory_per_cpu_second": statistics.median(cpu_ratios),
                   "cpu_ratios": cpu_ratios,
                   "memory_median": statistics.median(r["words_per_sec"] for r in runs[0::2]),
                   "disk_median": statistics.median(r["words_per_sec"] for r in runs[1::2])}
        print(json.dumps(summary, indent=2))
        if a.out:
            Path(a.out).parent.mkdir(parents=True, exist_ok=True)
            Path(a.out).write_text(json.dumps({"machine": harness.machine_info(),
                                               "corpus": str(corpus.path), "tokens": corpus.tokens,
                                               "runs": runs, "summary": summary,
                                               "argv": sys.argv}, indent=2))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
