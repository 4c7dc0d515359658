#!/usr/bin/env python3
"""Stress: a 1 GB corpus that is one line (no newline at all), and one that is one word.

    python bench/stress_long_line.py                 # 1 GB each
    python bench/stress_long_line.py --gb 0.05       # a quick check

Both files are streamed to disk (never held in memory), then ``w2v train`` runs on
each in a child process (GNU time measures its peak RSS). What must hold:

* one line of ~143 M tokens: the reader never holds the line (4 MiB chunks), the line
  is split into sentences of ``max_sentence_length`` words and every word is trained,
  so the counted total equals the generated one; memory is the encoded ids (4 bytes a
  token) plus the interpreter, not the line;
* one 1 GB "word" (no whitespace): the tokenizer keeps at most ``max_word_bytes`` of
  it, so counting stays at the interpreter's footprint, and training refuses the
  corpus with a one-line error (a one-word vocabulary cannot be trained), exit 1.

The result goes to ``bench/results/stress_long_line.json``; the files are deleted.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as harness  # noqa: E402
from corpus_gen import finish, ids_to_bytes  # noqa: E402

WIDTH = 6                 # characters a token: 7 bytes with its separator
CHUNK = 10_000_000


def one_line(path: Path, n_bytes: int, seed: int) -> int:
    """About ``n_bytes`` of tokens from a Zipf-like 50k-word vocabulary, all on one line."""
    rng = np.random.default_rng(seed)
    n_tokens = n_bytes // (WIDTH + 1)

    def chunks():
        left = n_tokens
        while left:
            k = min(CHUNK, left)
            yield (np.exp(rng.random(k) * np.log(50_000)) - 1).astype(np.int64)
            left -= k

    written = 0
    with open(path, "wb") as f:           # line_tokens past the end: no newline anywhere
        for ids in chunks():
            f.write(ids_to_bytes(ids, WIDTH, n_tokens + 1, written))
            written += len(ids)
    return written


def one_word(path: Path, n_bytes: int) -> None:
    block = b"x" * (1 << 24)
    with open(path, "wb") as f:
        for _ in range(n_bytes // len(block)):
            f.write(block)
        f.write(b"x" * (n_bytes % len(block)))


def train(corpus: Path, out: Path, log: Path) -> dict:
    exe = harness.find_executable("w2v")
    argv = [exe, "train", str(corpus), "-o", str(out), "--iter", "1", "--threads", "2",
            "--size", "8", "--negative", "1", "--window", "2", "--min-count", "1", "--sample", "0"]
    m = harness.run_measured(argv, log, timeout=3600)
    text = Path(log).read_text(errors="replace")
    return {"command": " ".join(argv), "returncode": m.returncode, "wall_s": round(m.wall_s, 1),
            "peak_rss_mb": round(m.peak_mb, 1),
            "words_trained": harness.w2v_training_phase(Path(log)).get("train_words"),
            "last_line": text.strip().splitlines()[-1][:300] if text.strip() else ""}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--gb", type=float, default=1.0, help="size of each file in GB (default 1)")
    p.add_argument("--dir", default=None, help="where to write the files (default: a temp folder)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    n_bytes = int(a.gb * 1e9)
    work = Path(tempfile.mkdtemp(prefix="w2v-long-line-", dir=a.dir))
    result = {"bytes": n_bytes}
    try:
        line = work / "one-line.txt"
        result["one_line_tokens"] = one_line(line, n_bytes, a.seed)
        result["one_line"] = train(line, work / "line.bin", work / "line.log")
        line.unlink()
        print(json.dumps(result["one_line"]), flush=True)
        word = work / "one-word.txt"
        one_word(word, n_bytes)
        result["one_word"] = train(word, work / "word.bin", work / "word.log")
        word.unlink()
        print(json.dumps(result["one_word"]), flush=True)
    finally:
        for f in work.glob("*"):
            f.unlink()
        work.rmdir()
    ok = (result["one_line"]["returncode"] == 0
          and result["one_line"]["words_trained"] == result["one_line_tokens"]
          and result["one_word"]["returncode"] == 1)
    result["ok"] = ok
    finish(result, harness.RESULTS_DIR / "stress_long_line.json")   # exits 0 if ok
    return 1


if __name__ == "__main__":
    sys.exit(main())
