"""Cluster accuracy against one machine with the same total threads.

For every (corpus, mode, seed, N) it trains twice: one process with N Hogwild
threads, and a local Ray cluster of N workers x 1 thread (with the sync settings
given), then scores both the same way: Google analogies (top 30,000 words,
3CosAdd), wordsim353 and SimLex-999 Spearman. Speed does not matter here (N
worker processes share this machine's cores); accuracy does.

Results go to a JSON-lines file, one line per run, and a run already in the file
is skipped, so the grid can be built up over several invocations:

    python bench/cluster_accuracy.py --corpus 17M --modes cbow-ns,sg-ns,cbow-hs,sg-hs \\
        --seeds 1,2,3 --workers 2,4,8 --out bench/results/cluster-accuracy.jsonl
    python bench/cluster_accuracy.py --summary bench/results/cluster-accuracy.jsonl

``--sync`` names the cluster settings as ``key=value`` pairs (``sync_words=262144``,
``sync_rule=sum``, ...); the label of a setting is its text, so rules can be compared
side by side in the summary.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import w2v  # noqa: E402

EVAL = os.path.join(HERE, "..", "..", "shared", "data", "eval")
MODES = {"cbow-ns": dict(sg=False, hs=False), "sg-ns": dict(sg=True, hs=False),
         "cbow-hs": dict(sg=False, hs=True), "sg-hs": dict(sg=True, hs=True)}


def corpus_path(name: str) -> str:
    if os.path.exists(name):
        return name
    from bench import prepare_corpus
    lines = {"17M": 6376, "70M": None}[name]
    return str(prepare_corpus(None, lines=lines).path)


def parse_sync(text: str) -> dict:
    out = {}
    for item in filter(None, text.split(",")):
        key, value = item.split("=", 1)
        try:
            out[key] = int(value)
        except ValueError:
            try:
                out[key] = float(value)
            except ValueError:
                out[key] = value
    return out


def score(model) -> dict:
    from w2v.evaluate import evaluate_analogies, evaluate_similarity
    a = evaluate_analogies(model.wv, os.path.join(EVAL, "questions-words.txt"), restrict_vocab=30000)
    ws = evaluate_similarity(model.wv, os.path.join(EVAL, "wordsim353.tsv"))
    sl = evaluate_similarity(model.wv, os.path.join(EVAL, "simlex999.txt"))
    return {"analogy": 100.0 * a.accuracy, "ws353": ws.spearman, "simlex": sl.spearman}


def run_one(corpus: str, mode: str, seed: int, n: int, sync: dict, epochs: int) -> dict:
    options = dict(MODES[mode], seed=seed, epochs=epochs)
    t = time.perf_counter()
    if sync is None:
        model = w2v.train(corpus, threads=n, **options)
        extra = {}
    else:
        model = w2v.train(corpus, cluster="local", workers=n, threads_per_worker=1,
                          sync_backend="objstore", **sync, **options)
        c = model.history[-1]["cluster"]
        extra = {"rounds": c["sync_rounds"], "identical": c["ranks_identical"]}
    return {**score(model), "seconds": time.perf_counter() - t, **extra}


def summary(path: str) -> None:
    rows = [json.loads(line) for line in open(path)]
    groups = {}
    for r in rows:
        groups.setdefault((r["corpus"], r["mode"], r["workers"], r["sync"]), []).append(r)
    print("| corpus | mode | N | setting | seeds | analogy % | ws353 | simlex | Δ analogy | Δ ws353 | Δ simlex |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for (corpus, mode, n, sync), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2], kv[0][3] != "one machine", kv[0][3])):
        base = groups.get((corpus, mode, n, "one machine"))
        seeds = sorted(r["seed"] for r in rs)
        mean = {k: statistics.mean(r[k] for r in rs) for k in ("analogy", "ws353", "simlex")}
        cells = [f"{mean['analogy']:.2f}", f"{mean['ws353']:.3f}", f"{mean['simlex']:.3f}"]
        if base and sync != "one machine":
            paired = {r["seed"]: r for r in base}
            both = [r for r in rs if r["seed"] in paired]
            if both:
                d = {k: statistics.mean(r[k] - paired[r["seed"]][k] for r in both)
                     for k in ("analogy", "ws353", "simlex")}
                cells += [f"{d['analogy']:+.2f}", f"{d['ws353']:+.3f}", f"{d['simlex']:+.3f}"]
            else:
                cells += ["", "", ""]
        else:
            cells += ["", "", ""]
        print(f"| {corpus} | {mode} | {n} | {sync} | {','.join(map(str, seeds))} | " + " | ".join(cells) + " |")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default="17M", help="17M, 70M or a path")
    ap.add_argument("--modes", default="cbow-ns")
    ap.add_argument("--seeds", default="1")
    ap.add_argument("--workers", default="2,4")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--sync", action="append", default=None,
                    help="cluster settings key=value,...; repeat to compare several")
    ap.add_argument("--no-baseline", action="store_true", help="skip the one-machine runs")
    ap.add_argument("--baseline-only", action="store_true", help="only the one-machine runs")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "cluster-accuracy.jsonl"))
    ap.add_argument("--summary", metavar="JSONL")
    args = ap.parse_args(argv)
    if args.summary:
        summary(args.summary)
        return 0
    corpus = corpus_path(args.corpus)
    settings = args.sync or [""]
    done = set()
    if os.path.exists(args.out):
        for line in open(args.out):
            r = json.loads(line)
            done.add((r["corpus"], r["mode"], r["seed"], r["workers"], r["sync"], r["epochs"]))
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    import ray
    from w2v.cluster import importable_cwd
    with importable_cwd():
        ray.init(num_cpus=16, object_store_memory=1 << 30, include_dashboard=False,
                 log_to_driver=False, configure_logging=False)
    for mode in args.modes.split(","):
        for seed in map(int, args.seeds.split(",")):
            for n in map(int, args.workers.split(",")):
                plan = ([] if args.no_baseline else [("one machine", None)]) + \
                       ([] if args.baseline_only else [(s or "default", parse_sync(s)) for s in settings])
                for label, sync in plan:
                    key = (args.corpus, mode, seed, n, label, args.epochs)
                    if key in done:
                        continue
                    r = run_one(corpus, mode, seed, n, sync, args.epochs)
                    r.update(corpus=args.corpus, mode=mode, seed=seed, workers=n, sync=label,
                             epochs=args.epochs, commit=os.popen("git -C %s rev-parse --short HEAD" % HERE).read().strip())
                    print(json.dumps(r), flush=True)
                    with open(args.out, "a") as f:
                        f.write(json.dumps(r) + "\n")
                    done.add(key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
