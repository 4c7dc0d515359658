# cython: language_level=3
"""Declarations of :mod:`w2v._text` shared with the other compiled modules
(``_phrases.pyx`` subclasses :class:`TokenTable` to reuse its chunk scanning
and its word table)."""
cimport cython
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint64_t
from libc.string cimport memcmp, memcpy


cdef enum:
    MIN_CAPACITY = 1 << 16


cdef inline bint is_space(unsigned char c) noexcept nogil:
    return c == 32 or (c >= 9 and c <= 13)


cdef inline uint64_t token_hash(const unsigned char *s, Py_ssize_t n) noexcept nogil:
    """64-bit hash of a token, 8 bytes per multiply (most tokens take one or two):
    each word is folded in with a multiply and shift; a final mix spreads the bits
    so that both the slot (low bits) and the tag (high bits) are well distributed."""
    cdef uint64_t h = 0x9E3779B97F4A7C15ULL ^ (<uint64_t> n * 0xC2B2AE3D27D4EB4FULL)
    cdef uint64_t v
    cdef Py_ssize_t i
    while n >= 8:
        memcpy(&v, s, 8)
        h = (h ^ v) * 0xFF51AFD7ED558CCDULL
        h ^= h >> 32
        s += 8
        n -= 8
    if n > 0:
        v = 0
        for i in range(n):
            v |= (<uint64_t> s[i]) << (8 * i)
        h = (h ^ v) * 0xFF51AFD7ED558CCDULL
        h ^= h >> 32
    h = (h ^ (h >> 33)) * 0xC4CEB9FE1A85EC53ULL
    return h ^ (h >> 29)


cdef inline uint64_t head_bytes(const unsigned char *s, Py_ssize_t n) noexcept nogil:
    """A token's first (up to) 8 bytes as a little-endian integer, zero-padded."""
    cdef uint64_t v = 0
    cdef Py_ssize_t i
    if n >= 8:
        memcpy(&v, s, 8)
        return v
    for i in range(n):
        v |= (<uint64_t> s[i]) << (8 * i)
    return v


cdef inline bint same_bytes(const unsigned char *a, const unsigned char *b, Py_ssize_t n) noexcept nogil:
    """memcmp(a, b, n) == 0, inline for the short tokens that are nearly all of a corpus."""
    cdef Py_ssize_t i
    if n > 16:
        return memcmp(a, b, n) == 0
    for i in range(n):
        if a[i] != b[i]:
            return False
    return True


cdef inline Py_ssize_t utf8_cut(const unsigned char *s, Py_ssize_t n, Py_ssize_t limit) noexcept nogil:
    """Length of ``s[:n]`` cut to at most ``limit`` bytes, backing off to a
    UTF-8 character boundary so a cut never splits a character."""
    if n <= limit:
        return n
    cdef Py_ssize_t k = limit
    while k > 0 and (s[k] & 0xC0) == 0x80:
        k -= 1
    return k if k > 0 else limit


cdef struct Entry:
    uint64_t head             # the first 8 bytes: tokens that short compare in one go
    int64_t count
    int64_t offset            # where its bytes start in the arena
    int32_t length
    uint8_t non_ascii         # some byte >= 0x80 (only such words can decode to the same text)


cdef class TokenTable:
    # A slot holds 0 (empty) or the entry's hash's top 32 bits and (entry index + 1) in the
    # low 32 bits: a probe rejects other tokens on the tag alone, without touching the entries.
    cdef uint64_t *slots
    cdef int64_t capacity        # power of two
    cdef uint64_t *hashes        # per entry (for rehashing)
    cdef Entry *records          # per entry: count, bytes (first 8 inline), where in arena
    cdef int32_t *ids            # per entry: vocabulary id or -1 (encoding pass)
    cdef int64_t n_entries, entries_cap
    cdef unsigned char *arena
    cdef int64_t arena_len, arena_cap
    cdef readonly int64_t max_entries     # 0 = unbounded
    cdef readonly int64_t min_reduce      # prune threshold, grows after each prune
    cdef readonly int64_t prunes
    cdef readonly int64_t tokens          # tokens seen by the current pass
    cdef readonly int64_t truncated_words  # tokens longer than max_word_bytes
    cdef readonly int max_word_bytes
    # carry-over of a token cut by a chunk boundary
    cdef unsigned char *carry
    cdef Py_ssize_t carry_len
    cdef bint in_token
    # encoding output
    cdef bint encoding
    cdef uint16_t *out_units          # the packed ids (see _ids.pxd)
    cdef object out_array             # when set: out_units is its buffer (sized exactly)
    cdef int64_t out_len, out_cap     # in units
    cdef int64_t out_words            # ids written
    cdef int64_t *out_starts          # sentence start offsets into out_units
    cdef uint8_t *out_line_start      # 1 if that sentence begins a line
    cdef int64_t n_sentences, starts_cap
    cdef int64_t sentence_len         # kept tokens in the open sentence
    cdef bint line_open               # a sentence of the current line has been emitted
    cdef int64_t max_sentence_length

    # hash table (final: direct calls on the per-token path)
    @cython.final
    cdef int64_t find(self, const unsigned char *s, Py_ssize_t n, uint64_t h,
                      int64_t *slot) noexcept nogil
    @cython.final
    cdef int rehash(self, int64_t new_capacity) noexcept nogil
    @cython.final
    cdef int resize_entries(self, int64_t cap) noexcept nogil
    @cython.final
    cdef int reserve(self, int64_t entries) noexcept nogil
    @cython.final
    cdef int insert(self, int64_t pos, const unsigned char *s, Py_ssize_t n, uint64_t h) noexcept nogil
    @cython.final
    cdef int prune_once(self, int64_t *remap) noexcept nogil
    @cython.final
    cdef int prune(self) noexcept nogil
    # per token (emit, make_room and end_line are what subclasses override)
    @cython.final
    cdef int64_t locate(self, const unsigned char *s, Py_ssize_t n, uint64_t *h,
                        Py_ssize_t *cut, int64_t *slot) noexcept nogil
    @cython.final
    cdef int64_t count_token(self, const unsigned char *s, Py_ssize_t n) noexcept nogil
    cdef int make_room(self) noexcept nogil
    cdef int emit(self, const unsigned char *s, Py_ssize_t n) noexcept nogil
    @cython.final
    cdef int push_id(self, int32_t word_id) noexcept nogil
    @cython.final
    cdef void close_sentence(self) noexcept nogil
    cdef void end_line(self) noexcept nogil
    @cython.final
    cdef int scan(self, const unsigned char *data, Py_ssize_t n) noexcept nogil
    @cython.final
    cdef int flush_carry(self) noexcept nogil
