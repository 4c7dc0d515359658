"""Cluster sync costs on a local Ray cluster, and what they project to on real networks.

It measures rounds at a fixed period in seconds (``sync_words=0``); the accuracy
of the default lockstep rounds is bench/cluster_accuracy.py's.

For each (workers, dim) it trains on a local cluster (one thread per worker) and
reads the run's sync figures: rounds, bytes per round, seconds per round (all,
and the local part: packing and applying rows), the fraction of the run a worker
spent syncing, and the epoch-end full average. Then it writes out the arithmetic
for N nodes on a 10 GbE network: ring allreduce moves 2(N-1)/N of the payload per
node plus 2(N-1) latency hops; the all-gather through the object store moves
(N-1) payloads into every node.

    python bench/cluster_sync.py --workers 2,3 --dims 100,300 --out bench/results/cluster-sync.json
    python bench/cluster_sync.py --quality   # + analogy accuracy: 1 x 2 threads vs 2 workers x 1
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import w2v  # noqa: E402

NET_BYTES_PER_S = 10e9 / 8        # 10 GbE
HOP_LATENCY_S = 50e-6             # one message on a switched 10 GbE LAN


def default_corpus() -> str:
    from bench import prepare_corpus   # the 17 M-token prefix, decompressed once into .cache
    return str(prepare_corpus(None, lines=6376).path)


def project(payload_bytes: float, local_s: float, period: float, nodes: int) -> dict:
    """Seconds per round on ``nodes`` machines and the speed-up it leaves, per backend."""
    ring = 2 * (nodes - 1) / nodes * payload_bytes / NET_BYTES_PER_S + 2 * (nodes - 1) * HOP_LATENCY_S
    gather = (nodes - 1) * payload_bytes / NET_BYTES_PER_S + HOP_LATENCY_S
    out = {}
    for name, wire in (("allreduce", ring), ("allgather", gather)):
        # training threads keep running while a round is on the wire; the worker's own CPU
        # time for packing/applying rows is what it takes from training, once per period
        busy = local_s / period
        stall = max(0.0, local_s + wire - period) / period    # a round longer than the period
        out[name] = {"round_s": local_s + wire, "speedup": nodes * (1 - busy) / (1 + stall)}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=None)
    ap.add_argument("--workers", default="2,3")
    ap.add_argument("--dims", default="100,300")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--sync-period", type=float, default=0.5)
    ap.add_argument("--backend", default="objstore,gloo")
    ap.add_argument("--quality", action="store_true",
                    help="also compare analogy accuracy (5 epochs) of 1 x 2 threads and 2 x 1")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    corpus = args.corpus or default_corpus()
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    import ray
    from w2v.cluster import importable_cwd
    with importable_cwd():
        ray.init(num_cpus=8, object_store_memory=512 << 20, include_dashboard=False,
                 log_to_driver=False, configure_logging=False)
    rows = []
    for backend in args.backend.split(","):
        for n in map(int, args.workers.split(",")):
            for dim in map(int, args.dims.split(",")):
                t = time.perf_counter()
                m = w2v.train(corpus, cluster="local", workers=n, threads_per_worker=1, size=dim,
                              epochs=args.epochs, sync_words=0, sync_period=args.sync_period,
                              sync_backend=backend)
                wall = time.perf_counter() - t
                c = m.history[-1]["cluster"]
                row = {"backend": backend, "workers": n, "dim": dim, "wall_s": wall,
                       "train_s": m.history[-1]["seconds"], "rounds": c["sync_rounds"],
                       "payload_mb": c["sync_floats_per_round"] * 4 / 1e6,
                       "round_ms": 1e3 * max(c["sync_seconds_per_round"]),
                       "local_ms": 1e3 * max(c["sync_local_seconds_per_round"]),
                       "sync_fraction": max(c["sync_fraction"]),
                       "full_sync_s": max(c["full_sync_seconds"]),
                       "model_mb": sum(a.nbytes for a in (m.input_vectors, m.output_ns, m.output_hs)
                                       if a is not None) / 1e6,
                       "identical": c["ranks_identical"]}
                row["projection"] = {N: project(row["payload_mb"] * 1e6, row["local_ms"] / 1e3,
                                                args.sync_period, N) for N in (8, 32, 128)}
                rows.append(row)
                print(json.dumps({k: v for k, v in row.items() if k != "projection"}), flush=True)
    result = {"corpus": corpus, "sync_period": args.sync_period, "rows": rows}
    if args.quality:
        from w2v.evaluate import evaluate_analogies
        qpath = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data",
                             "eval", "questions-words.txt")
        quality = {}
        for name, kw in (("1x2", dict(threads=2)),
                         ("2x1", dict(cluster="local", workers=2, threads_per_worker=1,
                                      sync_words=0, sync_period=args.sync_period))):
            t = time.perf_counter()
            m = w2v.train(corpus, epochs=5, **kw)
            acc = evaluate_analogies(m.wv, qpath, restrict_vocab=30000)
            quality[name] = {"seconds": time.perf_counter() - t, "accuracy": acc.accuracy}
            print(name, quality[name], flush=True)
        result["quality"] = quality
    print()
    print("| backend | workers | dim | payload/round | round | local part | syncing | full avg "
          "| 8 nodes | 32 | 128 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        kind = "allreduce" if r["backend"] == "gloo" else "allgather"
        proj = " | ".join(f"{r['projection'][N][kind]['speedup']:.1f}x" for N in (8, 32, 128))
        print(f"| {r['backend']} | {r['workers']} | {r['dim']} | {r['payload_mb']:.2f} MB | "
              f"{r['round_ms']:.1f} ms | {r['local_ms']:.1f} ms | {100 * r['sync_fraction']:.1f}% | "
              f"{r['full_sync_s']:.2f} s | {proj} |")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
