"""Fast, streaming generation of synthetic corpora for the stress scripts.

Every token is a fixed-width string of ``width`` characters from ``ALPHABET``
(the token id written in base ``len(ALPHABET)``), so a chunk of ids becomes its
bytes with a few numpy operations and never a Python loop per token. Tokens are
separated by a space; every ``line_tokens``-th token ends its line instead.

Used by bench/stress_vocab.py (tens of millions of distinct tokens) and
bench/stress_large.py (a > 4 GB file with > 2**31 tokens), which also share
:func:`finish`.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import BinaryIO, Iterable

import numpy as np

ALPHABET = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz012345", dtype=np.uint8)   # 32 symbols


def ids_to_bytes(ids: np.ndarray, width: int, line_tokens: int, first_index: int) -> bytes:
    """The text of tokens ``ids``; token ``first_index + k`` is the k-th of the corpus
    (it decides where lines end). ``ids`` must be below ``32 ** width``."""
    n = len(ids)
    out = np.empty((n, width + 1), dtype=np.uint8)
    rest = ids.astype(np.int64)
    for col in range(width - 1, -1, -1):
        out[:, col] = ALPHABET[rest & 31]
        rest >>= 5
    if rest.any():
        raise ValueError(f"a token id does not fit in {width} base-32 digits")
    out[:, width] = ord(" ")
    index = np.arange(first_index + 1, first_index + n + 1, dtype=np.int64)
    out[index % line_tokens == 0, width] = ord("\n")
    return out.tobytes()


def write_corpus(f: BinaryIO, chunks: Iterable[np.ndarray], width: int, line_tokens: int,
                 counts: np.ndarray) -> int:
    """Write every chunk of ids; add each id's occurrences to ``counts`` (int64, one per
    possible id). Ends the file with a newline. Returns the number of tokens."""
    written = 0
    last = b""
    for ids in chunks:
        counts += np.bincount(ids, minlength=len(counts)).astype(np.int64)
        data = ids_to_bytes(ids, width, line_tokens, written)
        written += len(ids)
        f.write(data)
        last = data[-1:]
    if last and last != b"\n":
        f.write(b"\n")
    return written


def finish(result: dict, out: Path) -> None:
    """Write ``result`` as JSON to ``out``, print it, exit 0 if ``result["ok"]`` else 1."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    sys.exit(0 if result["ok"] else 1)
