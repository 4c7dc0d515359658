# cython: language_level=3
"""The trainer's random numbers: splitmix64, one state per thread (``thread_seed``
in :mod:`w2v._core` derives it from the seed, the thread and the epoch)."""
from libc.stdint cimport uint32_t, uint64_t


cdef inline uint64_t next_random(uint64_t *state) noexcept nogil:
    """splitmix64: a 64-bit counter through a strong mixer (passes BigCrush)."""
    state[0] += 0x9E3779B97F4A7C15ULL
    cdef uint64_t z = state[0]
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    return z ^ (z >> 31)


cdef inline uint32_t random_below(uint64_t *state, uint32_t n) noexcept nogil:
    """Uniform integer in [0, n) by multiply-shift (no modulo bias worth noting)."""
    return <uint32_t> (((next_random(state) >> 32) * <uint64_t> n) >> 32)
