"""Cluster training simulated in one process, to compare sync rules quickly and exactly.

N model copies stand for N workers with one thread each. In every round each copy
trains the next ``--sync-words`` words of its own shard (the same shards, RNG seeds
and learning-rate schedule a cluster run uses), then the copies meet in a sync
round through :class:`w2v.rowsync.RowSync`, exactly as cluster workers do; every
epoch ends with the full average. Nothing runs concurrently, so a run is
deterministic and its staleness is exactly ``--sync-words`` words per worker per
round, which a real cluster on a shared machine cannot hold steady. The cluster
itself is measured by bench/cluster_accuracy.py.

    python bench/cluster_sim.py --workers 4 --sync-words 16384 --rule adaptive --seed 1
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time


HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from cluster_accuracy import MODES, corpus_path, score  # noqa: E402

from w2v.config import TrainConfig  # noqa: E402
from w2v.corpus import shards  # noqa: E402
from w2v import rowsync  # noqa: E402
from w2v.rowsync import RowSync  # noqa: E402
from w2v.cluster import FULL_SYNC_BLOCK_FLOATS, _sum_in_rank_order  # noqa: E402
from w2v.engine import Engine, RoundThreads, init_model  # noqa: E402
from w2v.trainer import build_corpus  # noqa: E402
from w2v.model import OUTPUT_LAYERS, Model  # noqa: E402


def simulate(corpus: str, mode: str, seed: int, n: int, sync_words: int, rule: str,
             sync_rows: int, epochs: int, built=None) -> Model:
    config = TrainConfig.from_options(threads=1, seed=seed, epochs=epochs, **MODES[mode])
    vocab, encoded = built or build_corpus(corpus, config)
    total = int(encoded.n_words) * epochs
    copies, engines, syncs = [], [], []
    for k in range(n):
        m = init_model(config, vocab)
        copies.append(m)
        engines.append(Engine(m, encoded, total, config.start_alpha, config.end_alpha))
        syncs.append(RowSync(m.matrices, [False] + [layer.hot_last for layer in OUTPUT_LAYERS],
                             base=sync_rows, rule=rule))
    bounds = shards(encoded, n)
    seen_others = [0] * n
    r = 0

    for e in range(epochs):
        # each copy is a one-thread rank: its shard in blocks of sync_words, as RoundThreads
        # trains it on a cluster worker (seeded by the rank, like thread_base there)
        ranks = [RoundThreads(engines[k], bounds[k:k + 2], seed, e, thread_base=k, units=sync_words)
                 for k in range(n)]
        while not all(t.done() for t in ranks):
            for t in ranks:
                if not t.done():
                    t.train_round()
            total = _sum_in_rank_order([s.gather(r) for s in syncs])
            for s in syncs:
                s.apply(total, n, r, exact=True)
            own = [engines[k].words - seen_others[k] for k in range(n)]
            for k in range(n):
                others = sum(own) - own[k]
                engines[k].add_words(others - seen_others[k])
                seen_others[k] = others
            r += 1
        for block in syncs[0].row_blocks(FULL_SYNC_BLOCK_FLOATS):
            total = _sum_in_rank_order([s.gather(block=block) for s in syncs])
            for s in syncs:
                s.apply(total, n, block=block, exact=True)
    return copies[0]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default="17M")
    ap.add_argument("--mode", default="cbow-ns")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--sync-words", default="16384", help="comma-separated to sweep")
    ap.add_argument("--rule", default="adaptive", help="comma-separated to sweep")
    ap.add_argument("--sync-rows", type=int, default=1024)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--aligned", type=float, default=None,
                    help="override rowsync.ALIGNED_RANKS (how many ranks' worth of an aligned "
                         "move the adaptive rule keeps)")
    ap.add_argument("--out", default=None, help="append JSON lines here")
    args = ap.parse_args(argv)
    if args.aligned is not None:
        rowsync.ALIGNED_RANKS = args.aligned
    corpus = corpus_path(args.corpus)
    config = TrainConfig.from_options(threads=1, seed=args.seed, epochs=args.epochs, **MODES[args.mode])
    built = build_corpus(corpus, config)
    for words in map(int, args.sync_words.split(",")):
        for rule in args.rule.split(","):
            t = time.perf_counter()
            model = simulate(corpus, args.mode, args.seed, args.workers, words, rule, args.sync_rows,
                             args.epochs, built)
            row = {"corpus": args.corpus, "mode": args.mode, "seed": args.seed,
                   "workers": args.workers, "sync_words": words, "rule": rule,
                   "aligned": rowsync.ALIGNED_RANKS, "sync_rows": args.sync_rows,
                   **score(model), "seconds": time.perf_counter() - t}
            print(json.dumps(row), flush=True)
            if args.out:
                with open(args.out, "a") as f:
                    f.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
