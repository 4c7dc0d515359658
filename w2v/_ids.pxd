# cython: language_level=3
"""The packed id stream of an encoded corpus, shared by the encoder (``_text``) and
the trainer (``_core``).

A corpus is held as 16-bit units rather than 32-bit ids: a word whose id is below
``WIDE_ID`` (65,535; in practice nearly every token, since ids are frequency ranks)
takes one unit, and any other id takes three: ``WIDE_ID``, then its high and its low
16 bits. The high half of an id below 2**31 is at most 0x7FFF, so only a first unit
can be ``WIDE_ID``. This halves the largest array of a run (4 bytes per token
before, 2.0 after on English text) at the cost of one well-predicted branch per
token.
"""
from libc.stdint cimport int32_t, int64_t, uint16_t


cdef enum:
    WIDE_ID = 0xFFFF      # a first unit announcing an id spread over the next two


cdef inline int64_t units_of(int32_t word_id) noexcept nogil:
    """How many units ``word_id`` takes."""
    return 1 if word_id < WIDE_ID else 3


cdef inline int64_t put_id(uint16_t *units, int64_t pos, int32_t word_id) noexcept nogil:
    """Write ``word_id`` at ``units[pos]``; returns the position after it."""
    if word_id < WIDE_ID:
        units[pos] = <uint16_t> word_id
        return pos + 1
    units[pos] = WIDE_ID
    units[pos + 1] = <uint16_t> (word_id >> 16)
    units[pos + 2] = <uint16_t> (word_id & 0xFFFF)
    return pos + 3


cdef inline int32_t take_id(const uint16_t *units, int64_t *pos) noexcept nogil:
    """The id at ``units[pos[0]]``; advances ``pos[0]`` past it."""
    cdef int32_t word_id = units[pos[0]]
    if word_id != WIDE_ID:
        pos[0] += 1
        return word_id
    word_id = (<int32_t> units[pos[0] + 1] << 16) | <int32_t> units[pos[0] + 2]
    pos[0] += 3
    return word_id
