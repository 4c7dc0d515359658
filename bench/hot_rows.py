#!/usr/bin/env python3
"""What staging the hot rows buys: training-loop words/s with ``hot_rows`` on and off.

With many threads, the rows of the most frequent words (and the Huffman nodes
near the root, which every hierarchical-softmax example writes) bounce between
the cores' caches. ``hot_rows=K`` lets each thread update private copies of
the K hottest rows and sync them every 256 centre words. This script trains
one epoch per (mode, threads, hot_rows) from one encoded corpus per mode and
prints the training loop's own words/s (no start-up, no vocabulary pass).

    python bench/hot_rows.py --corpus bench/.cache/enwiki70m.tokens8000000.txt \\
        --threads 1,4,8,16 --hot 0,128
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as harness  # noqa: E402

from w2v.config import TrainConfig  # noqa: E402
from w2v.trainer import build_corpus, init_model, run_epochs  # noqa: E402

MODE_OPTIONS = {"cbow-ns": dict(sg=False), "sg-ns": dict(sg=True),
                "cbow-hs": dict(sg=False, hs=True, negative=0),
                "sg-hs": dict(sg=True, hs=True, negative=0)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", default=None, help="source text (default: the bench's)")
    p.add_argument("--tokens", default="cbow-ns=8e6,sg-ns=4e6,cbow-hs=4e6,sg-hs=2e6",
                   help="mode=N pairs: corpus size per mode (whole lines)")
    p.add_argument("--threads", default="1,4,8,16")
    p.add_argument("--hot", default="0,128", help="hot_rows values to compare")
    p.add_argument("--out", default=None, help="JSON file for the rows")
    a = p.parse_args(argv)
    sizes = {m: int(float(n)) for m, n in (x.split("=") for x in a.tokens.split(","))}
    threads = [int(x) for x in a.threads.split(",")]
    hots = [int(x) for x in a.hot.split(",")]
    rows = []
    for mode, tokens in sizes.items():
        corpus = harness.prepare_corpus(a.corpus, tokens=tokens, echo=lambda s: None)
        for t in threads:
            for hot in (hots if t > 1 else hots[:1]):        # one thread never stages
                config = TrainConfig.from_options(threads=t, epochs=1, hot_rows=hot,
                                                  **MODE_OPTIONS[mode])
                vocab, encoded = build_corpus(str(corpus.path), config)
                model = run_epochs(init_model(config, vocab), encoded, 1)
                stage = model.history[-1]
                rows.append({"mode": mode, "tokens": corpus.tokens, "threads": t, "hot_rows": hot,
                             "train_s": stage["seconds"], "words_per_s": stage["words_per_sec"],
                             "loss": model.epoch_losses[-1]})
                print(f"{mode:8s} {t:3d} threads hot_rows={hot:<4d} "
                      f"{stage['words_per_sec'] / 1e6:7.2f} M words/s  loss {model.epoch_losses[-1]:.4f}",
                      flush=True)
    print("\n| mode | hot_rows | " + " | ".join(f"{t} thr" for t in threads) + " | speed-up |")
    print("|---|---|" + "---|" * (len(threads) + 1))
    for mode in sizes:
        base = next(r["words_per_s"] for r in rows if r["mode"] == mode and r["threads"] == threads[0])
        for hot in hots:
            cells = [next((f"{r['words_per_s'] / 1e6:.2f} M/s" for r in rows if r["mode"] == mode
                           and r["threads"] == t and (r["hot_rows"] == hot or t == 1)), "-")
                     for t in threads]
            top = next((r["words_per_s"] for r in rows if r["mode"] == mode and r["threads"] == threads[-1]
                        and r["hot_rows"] == hot), None)
            print(f"| {mode} | {hot} | " + " | ".join(cells) +
                  f" | {top / base:.1f}x |" if top else " | |")
    if a.out:
        Path(a.out).write_text(json.dumps({"machine": harness.machine_info(), "rows": rows},
                                          indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
