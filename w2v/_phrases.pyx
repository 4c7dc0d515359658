# cython: boundscheck=False, wraparound=False, cdivision=True, language_level=3
"""Compiled phrase detection: counting word pairs and joining phrases in text.

Both classes extend :class:`w2v._text.TokenTable`, so they read text exactly as
the vocabulary pass does (byte chunks of any file, a token cut by a chunk
boundary carried over, tokens cut to ``max_word_bytes``, a newline ends a line)
and override only what happens per token and at a line end.

* :class:`PhraseCounter` counts every word (the inherited word table) and every
  pair of adjacent words on the same line, in a :class:`PairTable` keyed by the
  two words' entry indices. With ``max_entries`` set, neither table grows past
  it: before a new entry would exceed the bound, entries seen at most
  ``min_reduce`` times are dropped and ``min_reduce`` grows (the C tool's
  ReduceVocab). Dropping a word drops its pairs too, so a pair's count never
  exceeds its words' counts.
* :class:`PhraseApplier` rewrites text, joining each adjacent pair found in its
  pair table with ``_``, greedily from left to right: a token joined to its
  left neighbour cannot also start a phrase with its right one (as in
  word2phrase). A phrase never spans a line break; every input line gives one
  output line, tokens separated by one space.
"""
from libc.stdint cimport int64_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy

import numpy as np

from w2v._text cimport TokenTable

cdef enum:
    MIN_PAIR_CAPACITY = 1 << 12

#: No pair key is all ones: entry indices are below 2**31.
cdef uint64_t EMPTY_KEY = 0xFFFFFFFFFFFFFFFFULL
cdef uint32_t MAX_COUNT = 0xFFFFFFFFU
cdef int64_t MAX_WORD_ENTRIES = 0x7FFFFFFF


cdef inline uint64_t pair_key(int64_t a, int64_t b) noexcept nogil:
    return (<uint64_t> a << 32) | <uint64_t> b


cdef inline uint64_t mix64(uint64_t x) noexcept nogil:
    """splitmix64's finaliser: spreads the packed pair over all bits."""
    x ^= x >> 30
    x *= 0xBF58476D1CE4E5B9ULL
    x ^= x >> 27
    x *= 0x94D049BB133111EBULL
    x ^= x >> 31
    return x


cdef class PairTable:
    """Open-addressing hash table (linear probing, load <= 0.7) from a pair of
    word entry indices to a saturating 32-bit count; 12 bytes per slot."""

    cdef uint64_t *keys
    cdef uint32_t *counts
    cdef int64_t capacity                # power of two
    cdef readonly int64_t n_entries
    cdef readonly int64_t max_entries    # 0 = unbounded
    cdef readonly int64_t min_reduce     # prune threshold, grows after each prune
    cdef readonly int64_t prunes
    cdef readonly int64_t peak_entries   # most entries ever held at once

    def __cinit__(self, int64_t max_entries=0):
        if max_entries < 0:
            raise ValueError("max_entries must be >= 0")
        self.max_entries = max_entries
        self.min_reduce = 1
        if self.allocate(MIN_PAIR_CAPACITY) != 0:
            raise MemoryError()

    def __dealloc__(self):
        free(self.keys)
        free(self.counts)

    def __len__(self):
        return self.n_entries

    cdef int allocate(self, int64_t capacity) noexcept nogil:
        cdef int64_t i
        self.keys = <uint64_t *> malloc(capacity * sizeof(uint64_t))
        self.counts = <uint32_t *> malloc(capacity * sizeof(uint32_t))
        if self.keys == NULL or self.counts == NULL:
            return -1
        for i in range(capacity):
            self.keys[i] = EMPTY_KEY
        self.capacity = capacity
        return 0

    cdef int64_t slot(self, uint64_t key) noexcept nogil:
        """The slot holding ``key``, or the empty slot where it would go."""
        cdef int64_t mask = self.capacity - 1
        cdef int64_t pos = <int64_t> (mix64(key) & <uint64_t> mask)
        while self.keys[pos] != key and self.keys[pos] != EMPTY_KEY:
            pos = (pos + 1) & mask
        return pos

    cdef bint contains(self, uint64_t key) noexcept nogil:
        return self.keys[self.slot(key)] == key

    cdef int rebuild(self, int64_t capacity, int64_t drop_at_most, const int64_t *remap) noexcept nogil:
        """Move the entries into fresh arrays of ``capacity`` slots, dropping those
        counted at most ``drop_at_most`` times and, with ``remap`` (old word entry
        -> new entry or -1), re-keying pairs and dropping those of removed words."""
        cdef uint64_t *old_keys = self.keys
        cdef uint32_t *old_counts = self.counts
        cdef int64_t old_capacity = self.capacity, i, pos
        cdef int64_t a, b
        cdef uint64_t key
        if self.allocate(capacity) != 0:
            free(self.keys)
            free(self.counts)
            self.keys, self.counts, self.capacity = old_keys, old_counts, old_capacity
            return -1
        self.n_entries = 0
        for i in range(old_capacity):
            key = old_keys[i]
            if key == EMPTY_KEY or old_counts[i] <= drop_at_most:
                continue
            if remap != NULL:
                a = remap[<int64_t> (key >> 32)]
                b = remap[<int64_t> (key & 0xFFFFFFFFULL)]
                if a < 0 or b < 0:
                    continue
                key = pair_key(a, b)
            pos = self.slot(key)
            self.keys[pos] = key
            self.counts[pos] = old_counts[i]
            self.n_entries += 1
        free(old_keys)
        free(old_counts)
        return 0

    cdef int prune(self) noexcept nogil:
        """Drop rare pairs, raising the threshold, until there is room for one more."""
        while self.n_entries >= self.max_entries:
            if self.rebuild(self.capacity, self.min_reduce, NULL) != 0:
                return -1
            self.min_reduce += 1
            self.prunes += 1
        return 0

    cdef int add(self, uint64_t key) noexcept nogil:
        """Count one occurrence of ``key``; 0, or -1 when out of memory."""
        cdef int64_t pos = self.slot(key)
        if self.keys[pos] == key:
            if self.counts[pos] < MAX_COUNT:
                self.counts[pos] += 1
            return 0
        if self.max_entries > 0 and self.n_entries >= self.max_entries:
            if self.prune() != 0:
                return -1
            pos = self.slot(key)
        self.keys[pos] = key
        self.counts[pos] = 1
        self.n_entries += 1
        if self.n_entries > self.peak_entries:
            self.peak_entries = self.n_entries
        if self.n_entries * 10 > self.capacity * 7:
            return self.rebuild(self.capacity * 2, 0, NULL)
        return 0

    def at_least(self, int64_t min_count):
        """Pairs counted at least ``min_count`` times: (first, second, count) int64 arrays."""
        cdef int64_t i, n = 0
        for i in range(self.capacity):
            if self.keys[i] != EMPTY_KEY and self.counts[i] >= min_count:
                n += 1
        first = np.empty(n, dtype=np.int64)
        second = np.empty(n, dtype=np.int64)
        count = np.empty(n, dtype=np.int64)
        cdef int64_t[::1] fv = first, sv = second, cv = count
        n = 0
        for i in range(self.capacity):
            if self.keys[i] != EMPTY_KEY and self.counts[i] >= min_count:
                fv[n] = <int64_t> (self.keys[i] >> 32)
                sv[n] = <int64_t> (self.keys[i] & 0xFFFFFFFFULL)
                cv[n] = self.counts[i]
                n += 1
        return first, second, count

    def lookup(self, int64_t a, int64_t b):
        """Count of the pair of entries (a, b); 0 if absent. For tests."""
        cdef int64_t pos = self.slot(pair_key(a, b))
        return self.counts[pos] if self.keys[pos] == pair_key(a, b) else 0


cdef class PhraseCounter(TokenTable):
    """Counts words and adjacent word pairs (never across a line break).

    ``max_entries`` (0 = unbounded) bounds the word table and the pair table
    separately; ``.pairs`` is the pair table, keyed by word entry indices.
    """

    cdef readonly PairTable pairs
    cdef int64_t prev                 # entry of the previous token on this line, or -1
    cdef int64_t *remap
    cdef readonly int64_t peak_words  # most word entries ever held at once

    def __cinit__(self, int max_word_bytes=1000, int64_t max_entries=0):
        if max_entries < 0:
            raise ValueError("max_entries must be >= 0")
        self.pairs = PairTable(max_entries)
        self.prev = -1

    def __dealloc__(self):
        free(self.remap)

    cdef int make_room(self) noexcept nogil:
        """Before a new word: at the bound, drop rare words (and their pairs) until
        there is room for one more; 1 if entries moved."""
        if self.max_entries == 0 or self.n_entries < self.max_entries:
            return 0
        while self.n_entries >= self.max_entries:
            free(self.remap)
            self.remap = <int64_t *> malloc(max(1, self.n_entries) * sizeof(int64_t))
            if self.remap == NULL:
                return -1
            if self.prune_once(self.remap) != 0:
                return -1
            if self.pairs.rebuild(self.pairs.capacity, 0, self.remap) != 0:
                return -1
            if self.prev >= 0:
                self.prev = self.remap[self.prev]
        free(self.remap)
        self.remap = NULL
        return 1

    cdef int emit(self, const unsigned char *s, Py_ssize_t n) noexcept nogil:
        cdef int64_t e
        if self.n_entries >= MAX_WORD_ENTRIES:
            return -1
        e = self.count_token(s, n)
        if e < 0:
            return -1
        if self.n_entries > self.peak_words:
            self.peak_words = self.n_entries
        if self.prev >= 0 and self.pairs.add(pair_key(self.prev, e)) != 0:
            return -1
        self.prev = e
        return 0

    cdef void end_line(self) noexcept nogil:
        self.prev = -1


cdef class PhraseApplier(TokenTable):
    """Joins the word pairs of a phrase table in text (see the module docstring).

    Build it with ``PhraseApplier(max_word_bytes)``, then :meth:`set_pairs`; then
    :meth:`transform` each chunk and :meth:`flush` at the end of the text.
    """

    cdef PairTable phrase_pairs
    cdef unsigned char *pending       # the last token, not written yet
    cdef Py_ssize_t pending_len       # -1: none
    cdef int64_t pending_id           # its word entry, or -1 if in no phrase
    cdef bint line_has_output
    cdef bint failed                  # out of memory in end_line (which cannot return it)
    cdef unsigned char *out
    cdef int64_t out_len, out_cap
    cdef readonly int64_t joined      # phrases written

    def __cinit__(self, int max_word_bytes=1000):
        self.phrase_pairs = PairTable(0)
        self.pending = <unsigned char *> malloc(max_word_bytes + 8)
        self.out_cap = 1 << 16
        self.out = <unsigned char *> malloc(self.out_cap)
        if self.pending == NULL or self.out == NULL:
            raise MemoryError()
        self.pending_len = -1

    def __dealloc__(self):
        free(self.pending)
        free(self.out)

    def set_pairs(self, words, const int64_t[::1] first, const int64_t[::1] second):
        """The phrase table: ``words`` (bytes, no whitespace, distinct) and, per
        phrase, the indices of its two words in ``words``."""
        if len(self) != 0:
            raise RuntimeError("set_pairs may be called once")
        if first.shape[0] != second.shape[0]:
            raise ValueError("first and second must have the same length")
        cdef Py_ssize_t i
        cdef bytes word
        for i, word in enumerate(words):
            if (len(word.split()) != 1 or len(word) != len(word.strip())
                    or len(word) > self.max_word_bytes):
                raise ValueError(f"phrase word {word[:60]!r} is empty, has whitespace or is "
                                 f"longer than max_word_bytes")
            if self.count_token(word, len(word)) != i:
                raise ValueError(f"phrase word {word[:60]!r} is listed twice")
        self.tokens = 0
        for i in range(first.shape[0]):
            if not (0 <= first[i] < len(words) and 0 <= second[i] < len(words)):
                raise ValueError("pair index out of range")
            if self.phrase_pairs.add(pair_key(first[i], second[i])) != 0:
                raise MemoryError()

    cdef int put(self, const unsigned char *s, Py_ssize_t n) noexcept nogil:
        cdef void *p
        while self.out_len + n > self.out_cap:
            p = realloc(self.out, self.out_cap * 2)
            if p == NULL:
                return -1
            self.out = <unsigned char *> p
            self.out_cap *= 2
        memcpy(self.out + self.out_len, s, n)
        self.out_len += n
        return 0

    cdef int put_pending(self) noexcept nogil:
        """Write the pending token (after a space unless it starts the line)."""
        cdef unsigned char space = 32
        if self.pending_len < 0:
            return 0
        if self.line_has_output and self.put(&space, 1) != 0:
            return -1
        self.line_has_output = True
        if self.put(self.pending, self.pending_len) != 0:
            return -1
        self.pending_len = -1
        return 0

    cdef int emit(self, const unsigned char *s, Py_ssize_t n) noexcept nogil:
        cdef uint64_t h
        cdef Py_ssize_t k
        cdef unsigned char joiner = 95     # "_"
        cdef int64_t pos = 0
        cdef int64_t e = self.locate(s, n, &h, &k, &pos)
        if (self.pending_len >= 0 and self.pending_id >= 0 and e >= 0
                and self.phrase_pairs.contains(pair_key(self.pending_id, e))):
            if (self.put_pending() != 0 or self.put(&joiner, 1) != 0
                    or self.put(s, k) != 0):
                return -1
            self.joined += 1
            return 0
        if self.put_pending() != 0:
            return -1
        memcpy(self.pending, s, k)
        self.pending_len = k
        self.pending_id = e
        return 0

    cdef void end_line(self) noexcept nogil:
        cdef unsigned char newline = 10
        if self.put_pending() != 0 or self.put(&newline, 1) != 0:
            self.failed = True
        self.line_has_output = False

    cdef bytes take(self):
        data = self.out[:self.out_len]
        self.out_len = 0
        return data

    def transform(self, const unsigned char[::1] chunk):
        """Rewrite one chunk of text; returns the output ready so far (the last
        token may be held back until the next chunk shows what follows it)."""
        cdef Py_ssize_t n = chunk.shape[0]
        cdef int rc = 0
        if n > 0:
            with nogil:
                rc = self.scan(&chunk[0], n)
        if rc != 0 or self.failed:
            raise MemoryError("out of memory while joining phrases")
        return self.take()

    def flush(self):
        """End of the text: the rest of the output, ending with a newline if the
        last line had words (an unterminated last line gets one)."""
        if self.flush_carry() != 0:
            raise MemoryError("out of memory while joining phrases")
        if self.pending_len >= 0 or self.line_has_output:
            self.end_line()
        if self.failed:
            raise MemoryError("out of memory while joining phrases")
        return self.take()
