#!/usr/bin/env python3
"""Stress: vocabulary counting with tens of millions of distinct tokens, bounded and not.

    python bench/stress_vocab.py                          # 110 M tokens, ~32 M distinct
    python bench/stress_vocab.py --tokens 2000000 --tail-ids 1000000 --max-vocab-size 10000

The corpus is streamed to disk in chunks (never held in memory): a Zipf-like head
(ids drawn log-uniformly from ``--head`` ids, p ~ 1/id) mixed with a long tail of ids
drawn uniformly from ``--tail-ids`` ids, which appear about once each. Every token is
6 base-32 characters, so 7 bytes with its separator; 1000 tokens a line.

Then ``w2v.vocab.count_file`` (bench/drivers/w2v_count.py, min_count 5) counts it in a
child process, once with ``max_vocab_size`` and once unbounded, and once on a 1-line
corpus for the interpreter's own footprint; the harness measures each child's wall time
and peak RSS (GNU time). The bound printed is the arithmetic of
:func:`table_bound_bytes` (the counting table) plus :func:`python_bound_bytes` (the
Python objects made from at most ``max_vocab_size`` entries) plus that baseline.
The result goes to ``bench/results/stress_vocab.json``; the corpus is deleted.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as harness  # noqa: E402
from corpus_gen import finish, write_corpus  # noqa: E402

WIDTH = 6                 # base-32 characters a token: ids below 2**30
LINE_TOKENS = 1000
CHUNK = 10_000_000        # tokens per generated chunk (a multiple of LINE_TOKENS)


def pow2_at_least(x: int) -> int:
    return 1 << max(0, (int(x) - 1).bit_length())


def table_bound_bytes(max_entries: int, token_bytes: int) -> int:
    """Most memory the compiled TokenTable (w2v/_text.pyx) holds with ``max_entries``:
    it prunes as soon as it has max_entries + 1 entries, so

    * slots: uint64 (tag | index), a power of two >= 2 x entries (64k at least)
    * per entry: hash u64 + a 32-byte record (first 8 bytes, count, arena offset,
      length, flags) = 40 bytes, in arrays of a power-of-two capacity >= entries
    * arena: the entries' bytes (cap a power of two), twice while pruning compacts it
    """
    entries = max_entries + 1
    slots = max(1 << 16, pow2_at_least(2 * entries)) * 8
    per_entry = max(1 << 15, pow2_at_least(entries)) * 40
    arena = max(1 << 20, pow2_at_least(entries * token_bytes)) * 2
    return slots + per_entry + arena


def python_bound_bytes(max_entries: int, token_bytes: int) -> int:
    """The Python side after counting (vocab._count/_select), per entry: a bytes object
    (33 + n) and its list slot (8), the decoded str (49 + n) and its slot (8), the int64
    count (8) and the sort's index and key (28 + 8 + 8), with ~1.5x for the temporaries
    that overlap. An estimate, not a guarantee: CPython's allocator adds its own slack."""
    per_entry = (33 + token_bytes + 8) + (49 + token_bytes + 8) + 8 + (28 + 8 + 8)
    return int(1.5 * max_entries * per_entry)


def generate(path: Path, tokens: int, head: int, tail_ids: int, tail_share: float,
             seed: int) -> dict:
    rng = np.random.default_rng(seed)
    counts = np.zeros(head + tail_ids, dtype=np.int64)

    def chunks():
        left = tokens
        while left:
            n = min(CHUNK, left)
            from_tail = rng.random(n) < tail_share
            ids = np.exp(rng.random(n) * np.log(head)).astype(np.int64) - 1      # p ~ 1/id
            ids[from_tail] = head + rng.integers(0, tail_ids, int(from_tail.sum()))
            yield ids
            left -= n

    with open(path, "wb") as f:
        written = write_corpus(f, chunks(), width=WIDTH, line_tokens=LINE_TOKENS, counts=counts)
    return {"tokens": written, "distinct": int(np.count_nonzero(counts)),
            "at_least_5": int(np.count_nonzero(counts >= 5)), "bytes": path.stat().st_size}


def count(corpus: Path, work: Path, label: str, max_vocab_size, timeout: float) -> dict:
    argv = [sys.executable, str(harness.DRIVERS_DIR / "w2v_count.py"), str(corpus),
            "--min-count", "5"]
    if max_vocab_size:
        argv += ["--max-vocab-size", str(max_vocab_size)]
    m = harness.run_measured(argv, work / f"{label}.log", timeout=timeout)
    out = Path(m.log).read_text(errors="replace").strip().splitlines()
    result = {"max_vocab_size": max_vocab_size, "returncode": m.returncode,
              "timed_out": m.timed_out, "wall_s": round(m.wall_s, 1),
              "peak_rss_mb": round(m.peak_rss_kb / 1024, 1)}
    try:
        result.update(json.loads(out[-1]))
    except (IndexError, ValueError):
        result["log_tail"] = out[-5:]
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tokens", type=int, default=110_000_000)
    p.add_argument("--head", type=int, default=1_000_000, help="ids in the Zipf-like head")
    p.add_argument("--tail-ids", type=int, default=50_000_000, help="ids in the uniform tail")
    p.add_argument("--tail-share", type=float, default=0.45, help="share of tail tokens")
    p.add_argument("--max-vocab-size", type=int, default=1_000_000)
    p.add_argument("--skip-unbounded", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dir", type=Path, default=Path("/tmp/w2v-stress-vocab"))
    p.add_argument("--timeout", type=float, default=3600)
    p.add_argument("--out", type=Path, default=harness.RESULTS_DIR / "stress_vocab.json")
    a = p.parse_args()

    a.dir.mkdir(parents=True, exist_ok=True)
    corpus, tiny = a.dir / "vocab.txt", a.dir / "tiny.txt"
    result = {}
    try:
        t0 = time.perf_counter()
        result["corpus"] = generate(corpus, a.tokens, a.head, a.tail_ids, a.tail_share, a.seed)
        result["corpus"]["generate_s"] = round(time.perf_counter() - t0, 1)
        print(json.dumps(result["corpus"]), flush=True)
        tiny.write_bytes(b"a a a a a b b b b b\n")
        result["baseline"] = count(tiny, a.dir, "baseline", None, a.timeout)
        result["bounded"] = count(corpus, a.dir, "bounded", a.max_vocab_size, a.timeout)
        print(json.dumps(result["bounded"]), flush=True)
        if not a.skip_unbounded:
            result["unbounded"] = count(corpus, a.dir, "unbounded", None, a.timeout)
            print(json.dumps(result["unbounded"]), flush=True)
    finally:
        for f in (corpus, tiny):
            if f.exists():
                f.unlink()
    table = table_bound_bytes(a.max_vocab_size, WIDTH)
    python = python_bound_bytes(a.max_vocab_size, WIDTH)
    base = result["baseline"]["peak_rss_mb"]
    bound_mb = base + (table + python) / 2 ** 20
    result["bound"] = {"max_vocab_size": a.max_vocab_size, "table_mb": round(table / 2 ** 20, 1),
                       "python_mb": round(python / 2 ** 20, 1), "baseline_mb": base,
                       "total_mb": round(bound_mb, 1)}
    bounded = result["bounded"]
    result["ok"] = bool(bounded["returncode"] == 0 and bounded.get("pruned")
                        and bounded.get("distinct_tokens", 1 << 62) <= a.max_vocab_size
                        and bounded["peak_rss_mb"] <= bound_mb)
    finish(result, a.out)


if __name__ == "__main__":
    main()
