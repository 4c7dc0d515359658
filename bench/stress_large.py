#!/usr/bin/env python3
"""Stress: a corpus over 4 GB with more than 2**31 tokens, through ``w2v train``.

    python bench/stress_large.py                      # 2.2 G tokens, ~4.4 GB, then deleted
    python bench/stress_large.py --tokens 20000000    # a quick check of the script (40 MB)

The corpus is 26 one-letter words with Zipf-like frequencies, 1000 tokens a line
(so 2 bytes a token), written in chunks with numpy while the exact count of every
word is tallied. Then ``w2v train`` runs on it in a child process with cheap
settings (``--size 8 --negative 1 --window 2 --iter 1 --sample 0 --min-count 1``),
writing a ``.w2v`` model; the harness measures its wall time and peak RSS
(GNU time). Checked afterwards:

* the vocabulary counts stored in the model equal the generated counts, word by
  word (so the counting pass's 64-bit totals are exact past 2**31);
* the CLI's summary line reports exactly the generated total as "words trained"
  (so the encoded corpus has every token, and the training loop's global progress
  counter went past 2**31 without wrapping).

Memory: the encoded corpus is one int32 id per token (2.2 G tokens = 8.8 GB) held
in RAM for training; with the corpus file, the machine needs that much free memory.
The corpus file is deleted at the end unless ``--keep`` is given. The result goes to
``bench/results/stress_large.json`` (and is printed).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as harness  # noqa: E402
from corpus_gen import finish, write_corpus  # noqa: E402

WORDS = 26
LINE_TOKENS = 1000
CHUNK = 50_000_000          # tokens per generated chunk (a multiple of LINE_TOKENS)
TRAIN_OPTIONS = ["--size", "8", "--negative", "1", "--window", "2", "--iter", "1",
                 "--threads", "2", "--sample", "0", "--min-count", "1", "--seed", "1"]


def id_table(seed: int) -> np.ndarray:
    """65,536 ids in Zipf proportions (p ~ 1/rank, every word at least once): a uniform
    index into it draws a word."""
    weights = 1.0 / np.arange(1, WORDS + 1)
    slots = np.maximum(1, np.floor(weights / weights.sum() * 65536)).astype(np.int64)
    slots[0] += 65536 - slots.sum()
    return np.repeat(np.arange(WORDS, dtype=np.int32), slots)


def generate(path: Path, tokens: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    table = id_table(seed)
    counts = np.zeros(WORDS, dtype=np.int64)

    def chunks():
        left = tokens
        while left:
            n = min(CHUNK, left)
            yield table[rng.integers(0, len(table), n, dtype=np.int64)]
            left -= n

    with open(path, "wb") as f:
        written = write_corpus(f, chunks(), width=1, line_tokens=LINE_TOKENS, counts=counts)
    assert written == tokens == int(counts.sum())
    return counts


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tokens", type=int, default=2_200_000_000)
    p.add_argument("--dir", type=Path, default=Path("/tmp/w2v-stress-large"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--keep", action="store_true", help="keep the corpus and model files")
    p.add_argument("--timeout", type=float, default=3600)
    p.add_argument("--out", type=Path, default=harness.RESULTS_DIR / "stress_large.json")
    a = p.parse_args()

    a.dir.mkdir(parents=True, exist_ok=True)
    corpus, model = a.dir / "large.txt", a.dir / "large.w2v"
    result = {"tokens": a.tokens, "over_2_31": a.tokens > 2 ** 31}
    try:
        t0 = time.perf_counter()
        counts = generate(corpus, a.tokens, a.seed)
        result.update(generate_s=round(time.perf_counter() - t0, 1),
                      corpus_bytes=corpus.stat().st_size,
                      over_4_GiB=corpus.stat().st_size > 2 ** 32)
        print(f"generated {a.tokens:,} tokens, {result['corpus_bytes']:,} bytes in "
              f"{result['generate_s']} s", flush=True)

        w2v = harness.find_executable("w2v")
        argv = [w2v, "train", str(corpus), "-o", str(model)] + TRAIN_OPTIONS
        m = harness.run_measured(argv, a.dir / "train.log", timeout=a.timeout)
        log = Path(m.log).read_text(errors="replace")
        summary = [line for line in log.replace("\r", "\n").splitlines() if "words trained" in line]
        result.update(command=" ".join(argv), returncode=m.returncode, timed_out=m.timed_out,
                      train_wall_s=round(m.wall_s, 1), peak_rss_mb=round(m.peak_rss_kb / 1024),
                      summary=summary[-1].strip() if summary else log[-2000:],
                      words_trained=harness.w2v_training_phase(Path(m.log)).get("train_words"))
        if m.returncode == 0:
            from w2v.io import load_model
            loaded = load_model(model)
            got = dict(zip(loaded.words, np.asarray(loaded.counts).tolist()))
            want = {chr(ord("a") + i): int(c) for i, c in enumerate(counts) if c}
            result.update(counted_total=int(sum(got.values())), counts_exact=(got == want))
        result["ok"] = bool(m.returncode == 0 and result.get("counts_exact")
                            and result.get("counted_total") == a.tokens
                            and result.get("words_trained") == a.tokens)
    finally:
        if not a.keep:
            for f in (corpus, model):
                if f.exists():
                    f.unlink()
    result["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    finish(result, a.out)


if __name__ == "__main__":
    main()
