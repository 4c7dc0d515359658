#!/usr/bin/env python3
"""Thread scaling: whole-process wall time of w2v and the anchors at 1, 2, 4, 8, 16 threads.

Meant for the 16-core machine that is sometimes lent; one epoch, no accuracy
evaluation (add ``--eval`` for it). Each (mode, tool, threads) run is a separate
process, measured like bench/bench.py (whose runner functions this imports).

    python bench/scaling.py --modes cbow-ns,sg-ns --tools w2v,c,gensim,fasttext \\
        --threads 1,2,4,8,16 --tokens cbow-ns=8e6,sg-ns=3e6

``--tokens`` is one number for every mode or ``mode=N`` pairs (whole lines up to
the first that reaches N tokens); the defaults are the sizes of the thread-scaling
table in ANCHORS.md. Thread counts above the usable cores are skipped unless
``--oversubscribe`` is given.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as harness  # noqa: E402  (bench/bench.py: the runner functions)

DEFAULT_TOKENS = {"cbow-ns": 8_000_000, "sg-ns": 3_000_000, "cbow-hs": 8_000_000, "sg-hs": 3_000_000}


def parse_tokens(text: str) -> dict:
    """``"8e6"`` (all modes) or ``"cbow-ns=8e6,sg-ns=3e6"``; unnamed modes keep their default."""
    sizes = dict(DEFAULT_TOKENS)
    if "=" not in text:
        return {m: int(float(text)) for m in sizes}
    for item in text.split(","):
        mode, _, n = item.partition("=")
        if mode.strip() not in harness.MODES:
            raise argparse.ArgumentTypeError(f"unknown mode {mode!r}")
        sizes[mode.strip()] = int(float(n))
    return sizes


def parse_threads(text: str) -> list:
    try:
        counts = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"threads: comma-separated integers, not {text!r}") from None
    if not counts or counts[0] < 1:
        raise argparse.ArgumentTypeError("threads must be >= 1")
    return counts


def scaling_table(rows: list, thread_counts: list) -> str:
    head = "| run | " + " | ".join(f"{t} thread{'s' if t > 1 else ''}" for t in thread_counts)
    lo, hi = thread_counts[0], thread_counts[-1]
    out = [head + f" | {hi} vs {lo} |", "|---|" + "---|" * (len(thread_counts) + 1)]
    for (mode, tool), group in _groups(rows).items():
        by_threads = {r["threads"]: r for r in group}
        tokens = group[0]["tokens"]
        cells = []
        for t in thread_counts:
            r = by_threads.get(t)
            if r is None or r.get("wall_s") is None:
                cells.append((r or {}).get("status", "-").upper() if r else "-")
            else:
                cells.append(f"{r['wall_s']:.1f} s")
        first, last = by_threads.get(lo, {}).get("wall_s"), by_threads.get(hi, {}).get("wall_s")
        speedup = f"{first / last:.1f}x" if first and last else ""
        out.append(f"| {harness.TOOL_LABELS[tool]}, {mode}, {tokens / 1e6:.1f} M tokens | "
                   + " | ".join(cells) + f" | {speedup} |")
    return "\n".join(out)


def training_phase_table(rows: list, thread_counts: list) -> str:
    """w2v's training-loop words/s per thread count and the speed-up over the fewest threads."""
    lo, hi = thread_counts[0], thread_counts[-1]
    out = ["| run | " + " | ".join(str(t) for t in thread_counts) + f" | {hi} vs {lo} |",
           "|---|" + "---|" * (len(thread_counts) + 1)]
    for (mode, tool), group in _groups(rows).items():
        speeds = {r["threads"]: r.get("train_words_per_s") for r in group}
        if not any(speeds.values()):
            continue
        cells = [f"{speeds[t] / 1e6:.2f} M/s" if speeds.get(t) else "-" for t in thread_counts]
        ratio = f"{speeds[hi] / speeds[lo]:.1f}x" if speeds.get(lo) and speeds.get(hi) else ""
        out.append(f"| {harness.TOOL_LABELS[tool]}, {mode}, {group[0]['tokens'] / 1e6:.1f} M tokens | "
                   + " | ".join(cells) + f" | {ratio} |")
    return "\n".join(out)


def _groups(rows: list) -> dict:
    groups = {}
    for r in rows:
        groups.setdefault((r["mode"], r["tool"]), []).append(r)
    return groups


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--modes", type=harness._csv(tuple(harness.MODES)), default=["cbow-ns", "sg-ns"],
                   help="comma-separated, from " + ",".join(harness.MODES) + " (default: cbow-ns,sg-ns)")
    p.add_argument("--tools", type=harness._csv(harness.TOOLS), default=list(harness.TOOLS),
                   help="comma-separated, from " + ",".join(harness.TOOLS) + " (default: all)")
    p.add_argument("--threads", type=parse_threads, default=[1, 2, 4, 8, 16],
                   help="comma-separated thread counts (default: 1,2,4,8,16)")
    p.add_argument("--oversubscribe", action="store_true",
                   help="also run thread counts above the usable cores")
    p.add_argument("--corpus", default=None, help="source text (default: shared/data/corpus/enwiki70m.txt.xz)")
    p.add_argument("--tokens", type=parse_tokens, default=dict(DEFAULT_TOKENS),
                   help="corpus size in tokens: N for all modes, or mode=N pairs "
                        "(default: cbow-* 8e6, sg-* 3e6)")
    harness.add_settings_options(p, default_epochs=1)
    p.add_argument("--eval", action="store_true", help="also evaluate the vectors (not timed)")
    p.add_argument("--timeout", type=float, default=1800, help="seconds per training run (default: %(default)s)")
    p.add_argument("--time-budget", type=float, default=None,
                   help="seconds: start no new run after this much time (the rest are marked skipped)")
    p.add_argument("--out", default=None,
                   help="JSON file (default: bench/results/scaling-DATE-HOST.json)")
    a = p.parse_args(argv)

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    thread_counts = [t for t in a.threads if a.oversubscribe or t <= usable]
    skipped = sorted(set(a.threads) - set(thread_counts))
    if skipped:
        print(f"[scaling] skipping {skipped} threads: only {usable} usable cores "
              f"(--oversubscribe to run them anyway)", file=sys.stderr, flush=True)
    if not thread_counts:
        print("[scaling] nothing to run", file=sys.stderr)
        return 2
    info = harness.machine_info()
    if "w2v" in a.tools and info["w2v_install_warning"]:
        print(f"[scaling] WARNING: {info['w2v_install_warning']}", file=sys.stderr, flush=True)
    (harness.CACHE_DIR / "runs").mkdir(parents=True, exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(prefix=time.strftime("scaling-%Y%m%d-%H%M%S-"),
                                     dir=harness.CACHE_DIR / "runs"))
    echo = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    rows, corpora = [], {}
    out = Path(a.out) if a.out else harness.default_out("scaling")
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    def save():          # after every run, so a run cut short by a time limit still leaves its rows
        info["loadavg_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
        out.write_text(json.dumps({"machine": info, "corpora": corpora, "thread_counts": thread_counts,
                                   "skipped_thread_counts": skipped, "epochs": a.epochs,
                                   "work_dir": str(work_dir), "results": rows}, indent=1) + "\n")

    for mode_name in a.modes:
        corpus = harness.prepare_corpus(a.corpus, tokens=a.tokens[mode_name], echo=echo)
        corpora[mode_name] = {**asdict(corpus), "path": str(corpus.path)}
        for tool in a.tools:
            for threads in thread_counts:
                if a.time_budget is not None and time.perf_counter() - started > a.time_budget:
                    rows.append({"mode": mode_name, "tool": tool, "threads": threads,
                                 "tokens": corpus.tokens, "status": "skipped",
                                 "error": "time budget spent"})
                    continue
                settings = harness.settings_from_args(a, threads)
                row = harness.run_one(tool, harness.MODES[mode_name], settings, corpus, work_dir,
                                      timeout=a.timeout, evaluate=a.eval)
                rows.append(row)
                msg = (f"{row['wall_s']:.2f} s, {row['words_per_s'] / 1e6:.3f} M words/s"
                       if row.get("wall_s") is not None else f"{row['status'].upper()}: {row['error']}")
                if row.get("train_words_per_s"):
                    msg += f" (training loop {row['train_words_per_s'] / 1e6:.3f} M words/s)"
                echo(f"[scaling] {mode_name:8s} {harness.TOOL_LABELS[tool]:9s} {threads:3d} threads: {msg}")
                save()
                if row["status"] == "skipped":
                    break                       # not installed: no point trying other thread counts
    save()
    print(scaling_table(rows, thread_counts), flush=True)
    if any(r.get("train_words_per_s") for r in rows):
        print("\nw2v training loop alone (words/s from its summary; no start-up or vocabulary pass):\n",
              flush=True)
        print(training_phase_table(rows, thread_counts), flush=True)
    echo(f"\n[scaling] wrote {out}")
    return 0 if all(r["status"] in ("ok", "skipped") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
