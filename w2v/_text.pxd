# cython: language_level=3
"""Declarations of :mod:`w2v._text` shared with the other compiled modules
(``_phrases.pyx`` subclasses :class:`TokenTable` to reuse its chunk scanning
and its word table)."""
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t


cdef enum:
    EMPTY_SLOT = -1
    MIN_CAPACITY = 1 << 16


cdef inline bint is_space(unsigned char c) noexcept nogil:
    return c == 32 or (c >= 9 and c <= 13)


cdef inline uint64_t fnv1a(const unsigned char *s, Py_ssize_t n) noexcept nogil:
    cdef uint64_t h = 14695981039346656037ULL
    cdef Py_ssize_t i
    for i in range(n):
        h = (h ^ s[i]) * 1099511628211ULL
    return h


cdef inline Py_ssize_t utf8_cut(const unsigned char *s, Py_ssize_t n, Py_ssize_t limit) noexcept nogil:
    """Length of ``s[:n]`` cut to at most ``limit`` bytes, backing off to a
    UTF-8 character boundary so a cut never splits a character."""
    if n <= limit:
        return n
    cdef Py_ssize_t k = limit
    while k > 0 and (s[k] & 0xC0) == 0x80:
        k -= 1
    return k if k > 0 else limit


cdef class TokenTable:
    cdef int64_t *slots          # capacity slots: entry index or EMPTY_SLOT
    cdef int64_t capacity        # power of two
    cdef uint64_t *hashes        # per entry
    cdef int64_t *offsets        # per entry: start of its bytes in arena
    cdef int32_t *lengths        # per entry: byte length
    cdef int64_t *counts         # per entry
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
    cdef int32_t *out_ids
    cdef int64_t out_len, out_cap
    cdef int64_t *out_starts          # sentence start offsets into out_ids
    cdef uint8_t *out_line_start      # 1 if that sentence begins a line
    cdef int64_t n_sentences, starts_cap
    cdef int64_t sentence_len         # kept tokens in the open sentence
    cdef bint line_open               # a sentence of the current line has been emitted
    cdef int64_t max_sentence_length

    # hash table
    cdef int64_t find(self, const unsigned char *s, Py_ssize_t n, uint64_t h) noexcept nogil
    cdef int rehash(self, int64_t new_capacity) noexcept nogil
    cdef int grow_entries(self) noexcept nogil
    cdef int insert(self, int64_t pos, const unsigned char *s, Py_ssize_t n, uint64_t h) noexcept nogil
    cdef int prune_once(self, int64_t *remap) noexcept nogil
    cdef int prune(self) noexcept nogil
    # per token (emit and end_line are what subclasses override)
    cdef int64_t locate(self, const unsigned char *s, Py_ssize_t n, uint64_t *h,
                        Py_ssize_t *cut) noexcept nogil
    cdef int64_t count_token(self, const unsigned char *s, Py_ssize_t n) noexcept nogil
    cdef int make_room(self) noexcept nogil
    cdef int emit(self, const unsigned char *s, Py_ssize_t n) noexcept nogil
    cdef int push_id(self, int32_t word_id) noexcept nogil
    cdef void close_sentence(self) noexcept nogil
    cdef void end_line(self) noexcept nogil
    cdef int scan(self, const unsigned char *data, Py_ssize_t n) noexcept nogil
