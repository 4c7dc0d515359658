"""Sampling tables: Huffman optimality, the noise distribution, subsampling and windows."""
import heapq

import numpy as np
import pytest
from scipy import stats

from w2v import _core, _text, tables


def optimal_cost(counts):
    """Cost of an optimal prefix code (sum of merged weights), computed independently."""
    heap = list(map(int, counts))
    heapq.heapify(heap)
    cost = 0
    while len(heap) > 1:
        a, b = heapq.heappop(heap), heapq.heappop(heap)
        cost += a + b
        heapq.heappush(heap, a + b)
    return cost


@pytest.mark.parametrize("seed", range(5))
def test_huffman_prefix_free_and_optimal(seed):
    rng = np.random.default_rng(seed)
    counts = np.sort(rng.zipf(1.3, size=300).clip(max=10**6))[::-1]
    h = tables.huffman_codes(counts)
    codes = ["".join(map(str, h.code(w))) for w in range(len(counts))]
    assert len(set(codes)) == len(codes)
    # prefix-free: after sorting, no code is a prefix of the next one
    s = sorted(codes)
    assert not any(b.startswith(a) for a, b in zip(s, s[1:]))
    # optimal: expected length equals the optimal cost
    assert int((h.lengths * counts).sum()) == optimal_cost(counts)
    # Kraft equality for a full binary tree
    assert np.isclose(np.sum(2.0 ** -h.lengths.astype(float)), 1.0)
    # paths start at the root (V-2) and only visit inner nodes
    assert all(h.path(w)[0] == len(counts) - 2 for w in range(len(counts)))
    assert h.points.min() >= 0 and h.points.max() <= len(counts) - 2
    # two words share an inner node exactly where their codes share a prefix
    for a, b in [(0, 1), (5, 77), (120, 299)]:
        common = 0
        while common < min(len(codes[a]), len(codes[b])) and codes[a][common] == codes[b][common]:
            common += 1
        assert list(h.path(a)[:common + 1]) == list(h.path(b)[:common + 1])


def test_huffman_deterministic_with_ties():
    counts = np.array([5, 5, 5, 5, 3, 3, 1, 1])
    a, b = tables.huffman_codes(counts), tables.huffman_codes(counts)
    np.testing.assert_array_equal(a.codes, b.codes)
    np.testing.assert_array_equal(a.points, b.points)


@pytest.mark.parametrize("counts", [
    np.sort(np.random.default_rng(3).zipf(1.3, size=3000).clip(max=10**6))[::-1],
    np.ones(2 ** 17, dtype=np.int64),           # balanced: node gaps past 65,535 near the leaves
    np.array([7, 7], dtype=np.int64),
], ids=["zipf", "balanced-131k", "two-words"])
def test_packed_paths_unpack_to_the_tree(counts):
    """The core's walk over the packed paths gives back every node and code."""
    h = tables.huffman_codes(counts)
    packed = h.packed()
    nodes, codes = _core.py_huffman_paths(packed.units, packed.starts, len(counts))
    np.testing.assert_array_equal(nodes, h.points)
    np.testing.assert_array_equal(codes, h.codes)
    assert len(_text.unpack_ids(packed.units)) == len(h.points)      # one value per step
    wide = (len(packed.units) - len(h.points)) // 2                    # steps taking 3 units
    if len(counts) == 2 ** 17:
        assert wide > 0              # the three-unit form was exercised
    else:
        assert wide == 0 and packed.units.nbytes < 0.5 * (h.points.nbytes + h.codes.nbytes)


def caterpillar(n_words):
    """A valid Huffman-shaped tree whose deepest code has n_words - 1 bits: word i
    leaves the spine at depth i + 1 (int64 counts cannot produce one past 92)."""
    root = n_words - 2
    paths = [list(range(root, root - i - 1, -1)) for i in range(n_words - 1)] + [list(range(root, -1, -1))]
    codes = [[0] * i + [1] for i in range(n_words - 1)] + [[0] * (n_words - 1)]
    lengths = np.array([len(p) for p in paths], dtype=np.int32)
    offsets = np.concatenate([[0], np.cumsum(lengths[:-1])]).astype(np.int64)
    return tables.HuffmanCodes(np.concatenate(codes).astype(np.uint8),
                               np.concatenate(paths).astype(np.int32), offsets, lengths)


def test_packed_paths_refuse_what_the_core_cannot_walk():
    deepest = caterpillar(_core.MAX_CODE_LENGTH + 1).packed()       # 128 steps: walked whole
    nodes, _ = _core.py_huffman_paths(deepest.units, deepest.starts, _core.MAX_CODE_LENGTH + 1)
    assert len(nodes) == sum(range(1, _core.MAX_CODE_LENGTH + 1)) + _core.MAX_CODE_LENGTH
    with pytest.raises(ValueError, match="Huffman path of 129 units"):
        caterpillar(_core.MAX_CODE_LENGTH + 2).packed()
    h = tables.huffman_codes(np.array([5, 3, 2, 1]))
    climbing = tables.HuffmanCodes(h.codes, h.points[::-1].copy(), h.offsets, h.lengths)
    with pytest.raises(ValueError, match="does not descend from the root"):
        climbing.packed()


def test_alias_table_represents_distribution_exactly():
    counts = np.array([1000, 500, 120, 30, 7, 1, 1])
    p = tables.noise_distribution(counts, 0.75)
    np.testing.assert_allclose(p, counts ** 0.75 / (counts ** 0.75).sum())
    t = tables.alias_table(p)
    np.testing.assert_allclose(t.probabilities(), p, atol=1e-9)


def test_noise_draws_match_unigram_075_chi_square():
    counts = np.array([5000, 2000, 900, 400, 100, 50, 20, 5, 5, 1])
    p = tables.noise_distribution(counts, 0.75)
    t = tables.alias_table(p)
    n = 400_000
    draws = _core.py_draw_noise(t.packed(), 12345, n)
    observed = np.bincount(draws, minlength=len(counts))
    chi2, pvalue = stats.chisquare(observed, p * n)
    assert pvalue > 1e-4, (chi2, observed, p * n)
    # and it is not the plain unigram distribution: the 0.75 power flattens it
    q = counts / counts.sum()
    chi2_unigram, p_unigram = stats.chisquare(observed, q * n)
    assert p_unigram < 1e-10


def test_noise_exponent_zero_is_uniform():
    p = tables.noise_distribution(np.array([100, 10, 1]), 0.0)
    np.testing.assert_allclose(p, [1 / 3] * 3)


def test_keep_probability_formula_and_draws():
    counts = np.array([100_000, 10_000, 1000, 10, 1])
    t = 1e-3
    keep = tables.keep_probabilities(counts, t)
    total = counts.sum()
    f = counts / total
    expected = np.minimum((np.sqrt(f / t) + 1) * t / f, 1.0)
    np.testing.assert_allclose(keep, expected)
    assert keep[-1] == 1.0 and keep[0] < 0.2
    # the core keeps each word at that rate
    thr = tables.keep_thresholds(counts, t)
    ids = np.repeat(np.arange(len(counts), dtype=np.int32), 50_000)
    kept = _core.py_keep_decisions(thr, ids, 99)
    rates = kept.reshape(len(counts), -1).mean(axis=1)
    np.testing.assert_allclose(rates, keep, atol=0.01)
    assert np.all(tables.keep_probabilities(counts, 0.0) == 1.0)


def test_window_sizes_uniform_1_to_window():
    window = 5
    spans = _core.py_window_spans(window, 7, 200_000)
    assert spans.min() == 1 and spans.max() == window
    observed = np.bincount(spans, minlength=window + 1)[1:]
    chi2, pvalue = stats.chisquare(observed)
    assert pvalue > 1e-4


def test_thread_seeds_differ_and_are_reproducible():
    seeds = {_core.thread_seed(1, t, e) for t in range(8) for e in range(8)}
    assert len(seeds) == 64
    assert _core.thread_seed(1, 2, 3) == _core.thread_seed(1, 2, 3)
    assert _core.thread_seed(2, 2, 3) != _core.thread_seed(1, 2, 3)
