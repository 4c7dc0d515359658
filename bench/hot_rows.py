#!/usr/bin/env python3
"""What staging the hot Huffman nodes buys: training-loop words/s with ``hot_nodes`` on and off.

With several threads, the Huffman nodes near the root, which every
hierarchical-softmax example writes, bounce between the cores' caches.
``hot_nodes=K`` lets each thread update private copies of the K nodes nearest
the root and average them in every 256 centre words (``w2v/_core.pyx``, "Hot
rows"). This script trains one epoch per (mode, threads, hot_nodes) from one
encoded corpus per mode and prints the training loop's own words/s (no
start-up, no vocabulary pass). Negative-sampling modes stage nothing.

    python bench/hot_rows.py --tokens cbow-hs=4e6,sg-hs=2e6 --threads 1,2 --hot 0,128
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
from w2v.engine import init_model  # noqa: E402
from w2v.trainer import build_corpus, run_epochs  # noqa: E402

MODE_OPTIONS = {"cbow-ns": dict(sg=False), "sg-ns": dict(sg=True),
                "cbow-hs": dict(sg=False, hs=True, negative=0),
                "sg-hs": dict(sg=True, hs=True, negative=0)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", default=None, help="source text (default: the bench's)")
    p.add_argument("--tokens", default="cbow-ns=8e6,sg-ns=4e6,cbow-hs=4e6,sg-hs=2e6",
                   help="mode=N pairs: corpus size per mode (whole lines)")
    p.add_argument("--threads", default="1,4,8,16")
    p.add_argument("--hot", default="0,128", help="hot_nodes values to compare")
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
                config = TrainConfig.from_options(threads=t, epochs=1, hot_nodes=hot,
                                                  **MODE_OPTIONS[mode])
                vocab, encoded = build_corpus(str(corpus.path), config)
                model = run_epochs(init_model(config, vocab), encoded, 1)
                stage = model.history[-1]
                rows.append({"mode": mode, "tokens": corpus.tokens, "threads": t, "hot_nodes": hot,
                             "train_s": stage["seconds"], "words_per_s": stage["words_per_sec"],
                             "loss": model.epoch_losses[-1]})
                print(f"{mode:8s} {t:3d} threads hot_nodes={hot:<4d} "
                      f"{stage['words_per_sec'] / 1e6:7.2f} M words/s  loss {model.epoch_losses[-1]:.4f}",
                      flush=True)
    print("\n| mode | hot_nodes | " + " | ".join(f"{t} thr" for t in threads) + " | speed-up |")
    print("|---|---|" + "---|" * (len(threads) + 1))
    for mode in sizes:
        base = next(r["words_per_s"] for r in rows if r["mode"] == mode and r["threads"] == threads[0])
        for hot in hots:
            cells = [next((f"{r['words_per_s'] / 1e6:.2f} M/s" for r in rows if r["mode"] == mode
                           and r["threads"] == t and (r["hot_nodes"] == hot or t == 1)), "-")
                     for t in threads]
            top = next((r["words_per_s"] for r in rows if r["mode"] == mode and r["threads"] == threads[-1]
                        and r["hot_nodes"] == hot), None)
            print(f"| {mode} | {hot} | " + " | ".join(cells) +
                  f" | {top / base:.1f}x |" if top else " | |")
    if a.out:
        Path(a.out).write_text(json.dumps({"machine": harness.machine_info(), "rows": rows},
                                          indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
