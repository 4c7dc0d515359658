"""Which weight rows a cluster run averages in each sync round, and how.

Workers on different machines train their own copy of the model (Hogwild on
their threads) and keep the copies close by averaging rows every sync period.
Averaging the whole model every round does not scale (hundreds of MB per round),
and most rows barely move between rounds: a word's row changes about as often
as the word occurs, and word frequencies are Zipfian. So rows are synced in
tiers, as pWord2Vec does: the ``base`` most frequent rows every round, and the
rows below in tiers that double in size and halve in frequency (tier ``k``,
``base * 2**(k-1)`` rows, every ``2**k`` rounds). A row then drifts by about the
same number of updates between two syncs whatever its tier. Round ``r`` syncs
tier 0 plus the one tier ``1 + (number of trailing 1 bits of r)``, so the
tiers interleave instead of piling up on the same rounds. Epoch ends average
every row.

Rows are ordered by how often training writes them: input and negative-sampling
output rows by word rank (the vocabulary is sorted by count), hierarchical-softmax
rows from the Huffman root down (inner nodes are numbered leaves-first, the
root last).

Averaging keeps the updates a worker's threads make while the round is in flight:
each worker sends a snapshot ``S`` of its rows, receives the mean ``A`` of all
snapshots and adds ``A - S`` to its current rows, so only the difference between
its copy and the consensus is corrected.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np

from .config import SYNC_RULES

#: rows synced every round (tier 0), when the caller does not say
DEFAULT_BASE_ROWS = 1024


def _trailing_ones(r: int) -> int:
    n = 0
    while r & 1:
        n += 1
        r >>= 1
    return n


@dataclass(frozen=True)
class Tier:
    start: int   # first rank of the tier
    stop: int    # one past its last rank
    period: int  # synced every ``period`` rounds


class TierSchedule:
    """Ranks (0 = most often written) to sync in each round, over ``n_rows`` rows."""

    def __init__(self, n_rows: int, base: int = DEFAULT_BASE_ROWS):
        if base < 1:
            raise ValueError(f"base must be at least 1, got {base}")
        tiers = [Tier(0, min(base, n_rows), 1)]
        size, k = base, 1
        while tiers[-1].stop < n_rows:
            start = tiers[-1].stop
            tiers.append(Tier(start, min(start + size, n_rows), 2 ** k))
            size *= 2
            k += 1
        self.tiers = tiers

    def tiers_for_round(self, r: int) -> List[Tier]:
        """Tier 0 and, if it exists, tier ``1 + trailing_ones(r)``."""
        chosen = [self.tiers[0]]
        k = 1 + _trailing_ones(r)
        if k < len(self.tiers):
            chosen.append(self.tiers[k])
        return chosen


#: ``adaptive`` keeps at most this many ranks' worth of a move they all made alike
ALIGNED_RANKS = 2


class RowSync:
    """The model matrices a worker syncs, with their tier schedules.

    ``matrices`` are the weight arrays (``None`` entries are skipped); ``reverse``
    says, per matrix, that its most-written rows are the last ones (hierarchical
    softmax). Each rank keeps ``consensus``, a copy of the rows as the last round
    that synced them left them (the same on every rank). A round:

    1. ``payload = gather(r)`` packs the round's rows of every matrix, as the
       change since the consensus, ``delta_i = M_i - C`` (``mean`` sends ``M_i``);
    2. the exchange sums the payloads over the ranks (in rank order);
    3. ``apply(r, payload, total)`` computes the new consensus and moves the rows
       by ``new - M_i(then)``, keeping what the threads wrote meanwhile.

    The rules for the new consensus ``new``:

    - ``mean``: the average of the ranks' rows (model averaging);
    - ``sum``: ``C + sum_i delta_i`` (every rank's updates applied, as Hogwild
      threads do on one machine);
    - ``adaptive``: ``C + q * S`` with ``S = sum_i delta_i`` and
      ``q = min(1, sum_i |delta_i|^2 / |S|^2)``, per row. When the ranks moved a
      row the same way (a frequent word, trained to the same point on every
      rank) ``q = 1/n`` and this is the average; when their moves are unrelated
      (sparse updates, or a row only one rank trained) ``q = 1`` and every update
      is kept, as ``sum`` does. ``sum`` diverges when several ranks push the same
      hot rows the same way; ``mean`` divides every rarely shared update by the
      number of ranks, which costs accuracy (both measured in bench/README.md).
    - ``momentum``: block momentum (Chen & Huo's blockwise model-update filtering):
      ``D = mu * D + S / n`` per row, ``new = C + D``, with ``mu = 1 - 1/n``. A move
      every rank repeats round after round builds up to the sum, smoothed; a move
      one rank made alone reaches the sum over the next rounds.
      It holds one more copy of the synced matrices (the per-row momentum ``D``).
    """

    def __init__(self, matrices: Sequence[Optional[np.ndarray]], reverse: Sequence[bool],
                 base: int = DEFAULT_BASE_ROWS, rule: str = "adaptive"):
        if rule not in SYNC_RULES:
            raise ValueError(f"rule must be one of {SYNC_RULES}, got {rule!r}")
        self.rule = rule
        self.parts = [(m, rev, TierSchedule(len(m), base))
                      for m, rev in zip(matrices, reverse) if m is not None]
        self.consensus = [m.copy() for m, _, _ in self.parts] if rule != "mean" else None
        self.momentum = [np.zeros_like(m) for m, _, _ in self.parts] if rule == "momentum" else None
        self._taken = None

    def _spans(self, r: Optional[int], block: Optional[slice]):
        """``(matrix index, row slice)`` pairs of round ``r`` (or of ``block``): tiers
        are contiguous rank ranges, so rows are read and written as slices."""
        spans = []
        for k, (m, rev, schedule) in enumerate(self.parts):
            if block is not None:
                ranges = [(block.start, min(block.stop, len(m)))]
            else:
                ranges = [(t.start, t.stop) for t in schedule.tiers_for_round(r)]
            for a, b in ranges:
                if a >= b:
                    continue
                spans.append((k, slice(len(m) - b, len(m) - a) if rev else slice(a, b)))
        return spans

    def gather(self, r: Optional[int] = None, block: Optional[slice] = None) -> np.ndarray:
        """The payload of round ``r`` (or of the row ``block`` of every matrix)."""
        pieces, taken, norms = [], [], []
        for k, rows in self._spans(r, block):
            now = self.parts[k][0][rows].copy()
            taken.append(now)
            if self.rule == "mean":
                pieces.append(now.ravel())
                continue
            delta = now - self.consensus[k][rows]
            pieces.append(delta.ravel())
            if self.rule == "adaptive":
                norms.append(np.einsum("ij,ij->i", delta, delta))
        self._taken = taken
        if not pieces:
            return np.zeros(0, np.float32)
        return np.concatenate(pieces + norms)

    def apply(self, total: np.ndarray, n_ranks: int, r: Optional[int] = None,
              block: Optional[slice] = None, exact: bool = False) -> None:
        """Set the rows of round ``r`` (or ``block``) from the ranks' summed payloads.
        With ``exact`` (no thread is training) the rows are set to the new consensus,
        so that every rank holds the same bits; otherwise they move by
        ``new - (rows at gather time)``."""
        spans = self._spans(r, block)
        at = 0
        norms_at = total.size - sum(t.shape[0] for t in self._taken)
        for (k, rows), then in zip(spans, self._taken):
            m = self.parts[k][0]
            n, d = then.shape
            part = total[at:at + n * d].reshape(n, d)
            at += n * d
            if self.rule == "mean":
                new = part / np.float32(n_ranks)
            else:
                if self.rule == "adaptive":
                    squares = total[norms_at:norms_at + n]
                    norms_at += n
                    summed = np.einsum("ij,ij->i", part, part)
                    q = np.ones_like(squares)
                    bound = squares * np.float32(ALIGNED_RANKS)
                    np.divide(bound, summed, out=q, where=summed > bound)
                    part = part * q[:, None]
                elif self.rule == "momentum":
                    step = self.momentum[k][rows]
                    step *= np.float32(1 - 1 / n_ranks)
                    step += part / np.float32(n_ranks)
                    part = step
                new = self.consensus[k][rows]
                new += part                      # the consensus moves in place
            if exact:
                m[rows] = new
            else:
                m[rows] += new - then
        self._taken = None

    def row_blocks(self, max_floats: int) -> List[slice]:
        """Row slices that cover the largest matrix, each packing to at most about
        ``max_floats`` floats over all matrices (for the full average in pieces)."""
        longest = max(len(m) for m, _, _ in self.parts)
        width = sum(m.shape[1] + 1 for m, _, _ in self.parts)
        step = max(1, max_floats // max(width, 1))
        return [slice(a, min(a + step, longest)) for a in range(0, longest, step)]
