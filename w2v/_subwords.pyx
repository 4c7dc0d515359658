# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False, language_level=3
"""Compiled bulk work of :mod:`w2v.subwords`: hashing a whole vocabulary's n-grams
(fastText's scheme, described there) and composing its word vectors."""
from libc.stdint cimport int8_t, int32_t, int64_t, uint32_t
from libc.string cimport memset

import numpy as np

cimport numpy as cnp

cnp.import_array()


cdef inline bint is_continuation(unsigned char b) noexcept nogil:
    return (b & 0xC0) == 0x80


cdef inline uint32_t fnv1a(const unsigned char *s, Py_ssize_t n) noexcept nogil:
    """fastText's hash: FNV-1a with each byte sign-extended (``uint32_t(int8_t(c))``)."""
    cdef uint32_t h = 2166136261u
    cdef Py_ssize_t i
    for i in range(n):
        h = h ^ <uint32_t> <int32_t> <int8_t> s[i]
        h = h * 16777619u
    return h


cdef Py_ssize_t word_ngrams(const unsigned char *s, Py_ssize_t size, int minn, int maxn,
                            uint32_t buckets, int32_t *out) noexcept nogil:
    """The rows of the n-grams of ``s`` (``<word>`` in UTF-8) written to ``out`` (NULL: only
    counted); returns how many. Lengths n count code points, as in fastText."""
    cdef Py_ssize_t i, j, count = 0
    cdef int n
    for i in range(size):
        if is_continuation(s[i]):
            continue
        j = i
        n = 1
        while j < size and n <= maxn:
            j += 1                                  # one code point: its lead byte ...
            while j < size and is_continuation(s[j]):
                j += 1                              # ... and its continuation bytes
            if n >= minn and not (n == 1 and (i == 0 or j == size)):
                if out != NULL:
                    out[count] = <int32_t> (fnv1a(s + i, j - i) % buckets)
                count += 1
            n += 1
    return count


def vocab_ngram_rows(list words, int minn, int maxn, uint32_t buckets):
    """Every word's n-gram rows, CSR: ``(starts int64 (V+1,), rows int32)``; word ``w``'s
    rows are ``rows[starts[w]:starts[w+1]]``, in :func:`w2v.subwords.ngrams` order."""
    if minn < 1 or maxn < minn or buckets < 1:
        raise ValueError("need 1 <= minn <= maxn and buckets >= 1")
    cdef Py_ssize_t V = len(words), w
    encoded = [("<" + word + ">").encode("utf-8", "surrogatepass") for word in words]
    starts = np.empty(V + 1, dtype=np.int64)
    cdef int64_t[::1] st = starts
    cdef int64_t total = 0
    cdef bytes b
    st[0] = 0
    for w in range(V):
        b = encoded[w]
        total += word_ngrams(<const unsigned char *> b, len(b), minn, maxn, buckets, NULL)
        st[w + 1] = total
    rows = np.empty(total, dtype=np.int32)
    cdef int32_t[::1] r = rows
    for w in range(V):
        b = encoded[w]
        if st[w + 1] > st[w]:
            word_ngrams(<const unsigned char *> b, len(b), minn, maxn, buckets, &r[st[w]])
    return starts, rows


def compose(const float[:, ::1] input_vectors, const float[:, ::1] ngram_vectors,
            const int64_t[::1] starts, const int32_t[::1] rows, float[:, ::1] out):
    """``out[w] = mean(input_vectors[w], ngram_vectors[rows[starts[w]:starts[w+1]]])``:
    each vocabulary word's vector as training formed it (summed in float32 in that order,
    as the core does)."""
    cdef Py_ssize_t V = input_vectors.shape[0], dim = input_vectors.shape[1], w, i
    cdef int64_t k
    cdef float scale
    if (out.shape[0] != V or out.shape[1] != dim or ngram_vectors.shape[1] != dim
            or starts.shape[0] != V + 1 or starts[V] != rows.shape[0]):
        raise ValueError("compose: shapes do not match")
    for k in range(rows.shape[0]):
        if not (0 <= rows[k] < ngram_vectors.shape[0]):
            raise ValueError("compose: an n-gram row is out of range")
    with nogil:
        for w in range(V):
            for i in range(dim):
                out[w, i] = input_vectors[w, i]
            for k in range(starts[w], starts[w + 1]):
                for i in range(dim):
                    out[w, i] += ngram_vectors[rows[k], i]
            scale = 1.0 / <float> (1 + starts[w + 1] - starts[w])
            for i in range(dim):
                out[w, i] *= scale
