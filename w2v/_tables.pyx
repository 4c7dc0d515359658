# cython: boundscheck=False, wraparound=False, cdivision=True, language_level=3
"""Compiled builders of the per-word tables (:mod:`w2v.tables` calls them): Huffman
paths packed into the corpus's 16-bit id scheme, and Vose's alias construction.

They run once per training run, not in the hot loop, so they are compiled for the
baseline ISA like every module but the core."""
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t

from ._ids cimport put_id, units_of

import numpy as np


def pack_huffman_paths(const int32_t[::1] points, const uint8_t[::1] codes,
                       const int32_t[::1] lengths, int32_t n_nodes):
    """Pack flat Huffman paths (``tables.HuffmanCodes``) into ``(units, starts)``
    (``tables.PackedPaths``): each step as (previous node - node) * 2 + code, in
    the corpus's 16-bit scheme. Compiled, in two passes, so that packing needs no
    memory beyond its output. Raises ValueError if a path does not descend."""
    cdef Py_ssize_t n_words = lengths.shape[0], w, k, step = 0
    cdef int64_t size = 0, pos = 0
    cdef int32_t previous, value
    if points.shape[0] != codes.shape[0]:
        raise ValueError("points and codes must have the same length")
    for w in range(n_words):
        if lengths[w] < 0 or step + lengths[w] > points.shape[0]:
            raise ValueError("path lengths do not match the points")
        previous = n_nodes
        for k in range(step, step + lengths[w]):
            if not (0 <= points[k] < previous) or codes[k] > 1:
                raise ValueError(f"word {w}'s path does not descend from the root")
            size += units_of((previous - points[k]) * 2 + codes[k])
            previous = points[k]
        step += lengths[w]
    units = np.empty(size, dtype=np.uint16)
    starts = np.empty(n_words + 1, dtype=np.int64)
    cdef uint16_t[::1] out = units
    cdef int64_t[::1] out_starts = starts
    step = 0
    with nogil:
        for w in range(n_words):
            out_starts[w] = pos
            previous = n_nodes
            for k in range(step, step + lengths[w]):
                value = (previous - points[k]) * 2 + codes[k]
                pos = put_id(&out[0], pos, value)     # reached only when size > 0
                previous = points[k]
            step += lengths[w]
        out_starts[n_words] = pos
    return units, starts


def vose_alias(double[::1] scaled, double[::1] prob, int32_t[::1] alias):
    """Vose's alias construction, in place (see :func:`w2v.tables.alias_table`).

    IN  scaled[n]: probabilities times n (overwritten). OUT prob[n] (pre-set to 1)
    and alias[n] (pre-set to the identity): bucket i keeps itself with probability
    prob[i], else yields alias[i]. Compiled because a Python loop over a large
    vocabulary leaves megabytes of float objects behind for the whole run."""
    cdef Py_ssize_t n = scaled.shape[0], i, n_small = 0, n_large = 0, s, g
    if prob.shape[0] != n or alias.shape[0] != n:
        raise ValueError("scaled, prob and alias must have the same length")
    small_arr = np.empty(n, dtype=np.intp)
    large_arr = np.empty(n, dtype=np.intp)
    cdef Py_ssize_t[::1] small = small_arr, large = large_arr
    with nogil:
        for i in range(n):
            if scaled[i] < 1.0:
                small[n_small] = i
                n_small += 1
            else:
                large[n_large] = i
                n_large += 1
        while n_small > 0 and n_large > 0:
            n_small -= 1
            s = small[n_small]
            g = large[n_large - 1]
            prob[s] = scaled[s]
            alias[s] = <int32_t> g
            scaled[g] = (scaled[g] + scaled[s]) - 1.0
            if scaled[g] < 1.0:
                n_large -= 1
                small[n_small] = g
                n_small += 1
    # whatever is left is 1 up to rounding: it always yields itself
