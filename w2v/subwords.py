"""Subword (character n-gram) vectors, fastText's scheme.

With ``subwords=(minn, maxn)`` a word's input vector during training is the mean
of its own row of ``input_vectors`` and one row of ``ngram_vectors`` per
character n-gram of ``"<" + word + ">"`` with ``minn <= n <= maxn``; every row
gets the (undivided) gradient, as in fastText. After training, a vocabulary
word's vector is that same mean, and a word never seen in training gets the mean
of its n-gram rows alone, so it still has a vector.

The scheme is fastText's, byte for byte, so a fastText model's n-gram rows mean
the same here (:func:`w2v.io.read_fasttext_bin`):

* n counts characters (UTF-8 code points, not bytes) over ``<word>``;
* the one-character n-grams ``<`` and ``>`` are skipped (when ``minn == 1``);
  the whole ``<word>`` is an n-gram when its length is within range;
* an n-gram's row is ``fnv1a(utf8 bytes) % buckets``, where fastText's FNV-1a
  XORs each byte *sign-extended* (as a C ``int8_t``) into the 32-bit hash, which
  matters for bytes >= 0x80;
* n-grams are listed by start position, then by length; duplicates (a repeated
  n-gram or a hash collision) are kept, so such a row counts twice in the mean.

This module holds the reference implementation (used for single words at query
time and by the tests) and :class:`NgramVectors`, the query side; the bulk
hashing of a vocabulary and the composition of its vectors are compiled
(:mod:`w2v._subwords`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np

FNV_OFFSET = 2166136261
FNV_PRIME = 16777619
BOW, EOW = "<", ">"


def fnv1a(data: bytes) -> int:
    """fastText's 32-bit FNV-1a of ``data``, each byte sign-extended before the XOR."""
    h = FNV_OFFSET
    for b in data:
        h ^= b if b < 0x80 else (b | 0xFFFFFF00)
        h = (h * FNV_PRIME) & 0xFFFFFFFF
    return h


def ngrams(word: str, minn: int, maxn: int) -> List[str]:
    """The character n-grams of ``<word>``, minn <= n <= maxn, in fastText's order."""
    s = BOW + word + EOW
    out = []
    for i in range(len(s)):
        for n in range(minn, maxn + 1):
            if i + n > len(s):
                break
            if n == 1 and (i == 0 or i + n == len(s)):
                continue          # a lone boundary marker says nothing
            out.append(s[i:i + n])
    return out


def ngram_buckets(word: str, minn: int, maxn: int, buckets: int) -> List[int]:
    """The ``ngram_vectors`` rows of ``word``'s n-grams, in :func:`ngrams` order."""
    return [fnv1a(g.encode("utf-8", "surrogatepass")) % buckets for g in ngrams(word, minn, maxn)]


@dataclass(frozen=True)
class Scheme:
    """How words map to n-gram rows: lengths ``minn..maxn`` hashed into ``buckets`` rows."""
    minn: int
    maxn: int
    buckets: int

    @classmethod
    def of(cls, config) -> "Scheme":
        """The scheme a :class:`w2v.config.TrainConfig` with subwords on trains."""
        return cls(config.subwords[0], config.subwords[1], config.buckets)

    def rows(self, word: str) -> List[int]:
        return ngram_buckets(word, self.minn, self.maxn, self.buckets)

    def vocab_rows(self, words: Sequence[str]) -> Tuple[np.ndarray, np.ndarray]:
        """Every word's n-gram rows as CSR arrays ``(starts int64 (V+1,), rows int32)``
        (compiled; equal to :meth:`rows` word by word)."""
        from . import _subwords
        return _subwords.vocab_ngram_rows(list(words), self.minn, self.maxn, self.buckets)


class NgramVectors:
    """The n-gram matrix of a subword model and its scheme: vectors for words outside
    the vocabulary (the mean of their n-gram rows)."""

    def __init__(self, scheme: Scheme, matrix: np.ndarray):
        if matrix.ndim != 2 or matrix.shape[0] != scheme.buckets:
            raise ValueError(f"the n-gram matrix must have {scheme.buckets} rows, got "
                             f"shape {matrix.shape}")
        self.scheme = scheme
        self.matrix = matrix

    def vector(self, word: str) -> Optional[np.ndarray]:
        """The mean of ``word``'s n-gram rows (float32), or None if it has no n-grams."""
        rows = self.scheme.rows(word)
        if not rows:
            return None
        out = np.zeros(self.matrix.shape[1], dtype=np.float32)
        for r in rows:                     # row by row: a memory map is read only where needed
            out += self.matrix[r]
        return out / np.float32(len(rows))


def word_vectors(scheme: Scheme, words: Sequence[str], input_vectors: np.ndarray,
                 ngram_vectors: np.ndarray) -> np.ndarray:
    """Each vocabulary word's vector: the mean of its own row and its n-gram rows,
    as training formed its input (float32, (V, d), a new array)."""
    from . import _subwords
    starts, rows = scheme.vocab_rows(words)
    out = np.empty(input_vectors.shape, dtype=np.float32)
    _subwords.compose(input_vectors, ngram_vectors, starts, rows, out)
    return out
