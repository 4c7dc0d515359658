"""Sampling tables built once from the vocabulary counts.

* Huffman codes for hierarchical softmax (built with :mod:`heapq`).
* The noise distribution ``P(w) ∝ count(w) ** ns_exponent`` as a Walker/Vose
  alias table: O(1) draws from two small arrays (8 bytes per word, e.g. 0.5 MB
  for 68k words) instead of the C tool's 400 MB, 100-million-entry table.
* Subsampling keep-probabilities with the C tool's formula.

Probabilities are stored as ``uint32`` thresholds (p * 2**32) so the core
compares them with 32 random bits, no floating point in the draw.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from ._core import MAX_CODE_LENGTH
from ._tables import pack_huffman_paths, vose_alias

#: A threshold meaning "always" (probability 1); the core treats it specially.
ALWAYS = np.uint32(0xFFFFFFFF)


def _to_threshold(p: np.ndarray) -> np.ndarray:
    """Probabilities in [0, 1] -> uint32 thresholds; 1 maps to :data:`ALWAYS`."""
    scaled = np.floor(np.clip(p, 0.0, 1.0) * 4294967296.0)
    return np.minimum(scaled, 4294967295.0).astype(np.uint32)


# --------------------------------------------------------------------------- subsampling
def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """Probability of keeping each occurrence of a word (C tool / gensim formula).

    With ``f = count / total`` and threshold ``t``: ``keep = (sqrt(f / t) + 1) * t / f``,
    capped at 1, so words rarer than about ``t`` are always kept and very frequent
    ones are kept with probability about ``sqrt(t / f)``. ``sample == 0`` keeps all.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0 or counts.size == 0:
        return np.ones(counts.shape, dtype=np.float64)
    # (sqrt(f/t) + 1) t/f written as sqrt(r) + r with r = t/f: no overflow for a tiny t
    ratio = sample * counts.sum() / counts
    return np.minimum(np.sqrt(ratio) + ratio, 1.0)


def keep_thresholds(counts: np.ndarray, sample: float) -> np.ndarray:
    """:func:`keep_probabilities` as uint32 thresholds for the core."""
    return _to_threshold(keep_probabilities(counts, sample))


# --------------------------------------------------------------------------- noise
def noise_distribution(counts: np.ndarray, exponent: float = 0.75) -> np.ndarray:
    """``counts ** exponent``, normalised (float64)."""
    weights = np.power(np.asarray(counts, dtype=np.float64), exponent)
    total = weights.sum()
    if not np.isfinite(total) or total <= 0:
        raise ValueError("noise distribution has no mass")
    return weights / total


@dataclass
class AliasTable:
    """Vose's alias method: bucket ``i`` (chosen uniformly) yields ``i`` if
    ``u < threshold[i]`` (``u`` 32 random bits) and ``alias[i]`` otherwise."""

    threshold: np.ndarray   # uint32, one per word
    alias: np.ndarray       # int32, one per word

    def packed(self) -> np.ndarray:
        """(V, 2) uint32 rows [threshold, alias]: one memory access per draw."""
        return np.ascontiguousarray(np.stack([self.threshold, self.alias.astype(np.uint32)], axis=1))

    def probabilities(self) -> np.ndarray:
        """The distribution the table samples from exactly (for tests)."""
        n = len(self.alias)
        own = self.threshold.astype(np.float64) / 4294967296.0
        own[self.threshold == ALWAYS] = 1.0
        p = own / n
        np.add.at(p, self.alias, (1.0 - own) / n)
        return p


def alias_table(probabilities: np.ndarray) -> AliasTable:
    """Build an :class:`AliasTable` for a discrete distribution."""
    p = np.asarray(probabilities, dtype=np.float64)
    n = len(p)
    scaled = p * n / p.sum()
    alias = np.arange(n, dtype=np.int32)
    prob = np.ones(n, dtype=np.float64)
    vose_alias(np.ascontiguousarray(scaled), prob, alias)   # small/large stacks, in C
    threshold = _to_threshold(prob)
    threshold[prob >= 1.0] = ALWAYS
    return AliasTable(threshold=threshold, alias=alias)


# --------------------------------------------------------------------------- Huffman
@dataclass
class HuffmanCodes:
    """Codes and paths of a Huffman tree over the vocabulary, stored flat.

    Word ``w``'s path from the root has ``lengths[w]`` steps starting at
    ``offsets[w]``: ``points[k]`` is the inner node (a row of ``output_hs``,
    ``0 .. V-2``; the root is ``V-2``) and ``codes[k]`` the branch taken (0/1).
    The model predicts ``P(branch = 0 | node) = sigmoid(h . output_hs[node])``,
    the C tool's convention (its label is ``1 - code``).
    """

    codes: np.ndarray     # uint8
    points: np.ndarray    # int32
    offsets: np.ndarray   # int64, one per word
    lengths: np.ndarray   # int32, one per word

    def code(self, word: int) -> np.ndarray:
        o = self.offsets[word]
        return self.codes[o:o + self.lengths[word]]

    def path(self, word: int) -> np.ndarray:
        o = self.offsets[word]
        return self.points[o:o + self.lengths[word]]

    def packed(self) -> "PackedPaths":
        """The paths as the core reads them (see :class:`PackedPaths`)."""
        n_words = len(self.lengths)
        n_nodes = max(n_words - 1, 1)
        if n_nodes >= 2 ** 30:
            raise ValueError(f"{n_words:,} words: too many for hierarchical softmax")
        units, starts = pack_huffman_paths(self.points, self.codes, self.lengths, n_nodes)
        longest = int(np.diff(starts).max()) if n_words else 0
        if longest > MAX_CODE_LENGTH:     # unreachable from int64 counts (a code <= 92 bits)
            raise ValueError(f"a Huffman path of {longest} units; the core walks at most "
                             f"{MAX_CODE_LENGTH}")
        return PackedPaths(units=units, starts=starts)


@dataclass
class PackedPaths:
    """Huffman paths for the core, 2 bytes a step instead of 5.

    Word ``w``'s path is ``units[starts[w]:starts[w + 1]]``, one step per packed
    value (:mod:`w2v._ids`: one unit below 65,535, else three). Walking from the
    root, a step's value is ``(previous node - node) * 2 + code``, the previous
    node of the first step being ``V - 1``, one past the root: node ids fall
    along a path, since a parent is created after its children. The node gaps
    stay small (under 14,000 on a 68,000-word vocabulary), so nearly every step
    is one unit: 7.4 MB of codes, points, offsets and lengths become 3.2 MB.
    """

    units: np.ndarray     # uint16
    starts: np.ndarray    # int64, one per word plus the end


def huffman_codes(counts: np.ndarray) -> HuffmanCodes:
    """Build the Huffman tree for ``counts`` (deterministic tie-breaking).

    Leaves are nodes ``0..V-1``; inner nodes ``V..2V-2`` in creation order, the
    root last. The two smallest weights are merged first; ties go to the node
    created first (lower index), which makes the tree reproducible.
    """
    counts = np.asarray(counts, dtype=np.int64)
    n = len(counts)
    if n < 2:
        return HuffmanCodes(codes=np.zeros(0, np.uint8), points=np.zeros(0, np.int32),
                            offsets=np.zeros(n, np.int64), lengths=np.zeros(n, np.int32))
    parent = np.zeros(2 * n - 1, dtype=np.int64)
    branch = np.zeros(2 * n - 1, dtype=np.uint8)
    heap = [(int(c), i) for i, c in enumerate(counts)]
    heapq.heapify(heap)
    for inner in range(n, 2 * n - 1):
        w1, a = heapq.heappop(heap)
        w2, b = heapq.heappop(heap)
        parent[a] = parent[b] = inner
        branch[b] = 1          # the heavier (or later) child takes code 1
        heapq.heappush(heap, (w1 + w2, inner))
    root = 2 * n - 2
    # depth of every node, top-down: inner nodes were created child-before-parent
    depth = np.zeros(2 * n - 1, dtype=np.int32)
    par = parent.tolist()
    dep = depth.tolist()
    for node in range(root - 1, -1, -1):
        dep[node] = dep[par[node]] + 1
    lengths = np.asarray(dep[:n], dtype=np.int32)
    offsets = np.zeros(n, dtype=np.int64)
    np.cumsum(lengths[:-1], out=offsets[1:])
    total = int(lengths.sum())
    codes = np.zeros(total, dtype=np.uint8)
    points = np.zeros(total, dtype=np.int32)
    # walk all leaves up to the root at once, writing each path back to front
    node = np.arange(n, dtype=np.int64)
    pos = offsets + lengths - 1
    active = node != root
    while active.any():
        idx = np.flatnonzero(active)
        cur = node[idx]
        up = parent[cur]
        codes[pos[idx]] = branch[cur]
        points[pos[idx]] = (up - n).astype(np.int32)
        pos[idx] -= 1
        node[idx] = up
        active[idx] = up != root
    return HuffmanCodes(codes=codes, points=points, offsets=offsets, lengths=lengths)
