# cython: boundscheck=False, wraparound=False, cdivision=True, language_level=3
"""Compiled text scanning: whitespace tokenisation, vocabulary counting and
encoding a corpus to word ids.

Text arrives as byte chunks read from any file object (plain, gzip, bz2, xz)
or built from Python token lists, so memory stays bounded whatever the line or
file length: a token cut by a chunk boundary is carried over to the next
chunk. Tokens are runs of bytes between ASCII whitespace (space, \\t, \\n, \\v,
\\f, \\r); a newline ends a sentence. They are decoded to ``str`` only once per
distinct word (in ``vocab.py``), never per token.

One :class:`TokenTable` serves both passes over the corpus:

1. counting: an open-addressing hash table (linear probing, a 32-bit tag in each slot) maps each
   distinct byte string to an entry with a 64-bit count. With ``max_entries``
   set, entries seen at most ``min_reduce`` times are pruned whenever the table
   grows past it (the C tool's ReduceVocab), so memory stays bounded on corpora
   with tens of millions of distinct tokens.
2. encoding: after ``set_ids`` assigns each entry its vocabulary id (or -1),
   the same scan emits each in-vocabulary token's id, packed into 16-bit units
   (:mod:`w2v._ids`), plus sentence boundaries; a line longer than
   ``max_sentence_length`` kept tokens is split into pieces (never truncated).
"""
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint64_t
from libc.stdlib cimport calloc, free, malloc, qsort, realloc
from libc.string cimport memcmp, memcpy, memmove, memset
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize

from ._ids cimport WIDE_ID, put_id, take_id, units_of

import numpy as np

cimport numpy as cnp

cnp.import_array()

cdef extern from *:
    """
    #include <Python.h>
    static void w2v_free_capsule(PyObject *capsule) {
        free(PyCapsule_GetPointer(capsule, "w2v.buffer"));
    }
    static PyObject *w2v_owning_array(void *data, npy_intp n, int typenum) {
        /* Wrap a malloc'd buffer in a 1-D numpy array that frees it on deletion. */
        PyObject *arr, *capsule;
        if (data == NULL) { data = malloc(1); if (data == NULL) return PyErr_NoMemory(); }
        arr = PyArray_SimpleNewFromData(1, &n, typenum, data);
        if (arr == NULL) { free(data); return NULL; }
        capsule = PyCapsule_New(data, "w2v.buffer", w2v_free_capsule);
        if (capsule == NULL) { Py_DECREF(arr); free(data); return NULL; }
        if (PyArray_SetBaseObject((PyArrayObject *)arr, capsule) < 0) { Py_DECREF(arr); return NULL; }
        return arr;
    }
    """
    object owning_array "w2v_owning_array"(void *data, cnp.npy_intp n, int typenum)


# Slot values: 0 is an empty slot; otherwise tag << 32 | (entry index + 1) (see _text.pxd).
cdef uint64_t EMPTY_SLOT = 0
cdef uint64_t INDEX_MASK = 0xFFFFFFFFu
cdef int64_t MAX_ENTRIES = 0xFFFFFFFEu


cdef extern from "<sys/mman.h>" nogil:
    int madvise(void *addr, size_t length, int advice)
    int MADV_HUGEPAGE

cdef void advise_huge(void *p, size_t n) noexcept nogil:
    """Ask for huge pages under a table of 4 MB or more: a fresh table filled at random
    (the merge) otherwise takes a page fault per 4 KB, and two threads faulting in one
    process slow each other down. A no-op where transparent huge pages are off."""
    cdef size_t page = 4096, a = (<size_t> p + page - 1) & ~(page - 1)
    if n >= (4 << 20):
        madvise(<void *> a, ((<size_t> p + n) - a) & ~(page - 1), MADV_HUGEPAGE)

cdef extern from *:
    """
    #define w2v_prefetch(p) __builtin_prefetch(p)
    """
    void prefetch "w2v_prefetch"(const void *p) noexcept nogil

#: how many entries ahead a merge prefetches the slot an entry will probe
cdef enum:
    PREFETCH_AHEAD = 16


cdef inline int64_t partition_of(uint64_t h, int64_t n_parts) noexcept nogil:
    """Which of ``n_parts`` merge partitions a token with hash ``h`` belongs to: from the
    hash's top 32 bits (the tag), which the slot index (the low bits) does not use, so
    a partition's table still spreads over all its slots."""
    return <int64_t> (((h >> 32) * <uint64_t> n_parts) >> 32)


cdef bint valid_utf8(const unsigned char *s, Py_ssize_t n) noexcept nogil:
    """Whether ``s[:n]`` is well-formed UTF-8 as Python's strict decoder reads it (no
    overlong forms, no surrogates, nothing above U+10FFFF)."""
    cdef Py_ssize_t i = 0, k, need
    cdef unsigned char c, lo, hi
    while i < n:
        c = s[i]
        if c < 0x80:
            i += 1
            continue
        lo, hi = 0x80, 0xBF          # the first continuation byte's range
        if 0xC2 <= c <= 0xDF:
            need = 1
        elif 0xE0 <= c <= 0xEF:
            need = 2
            if c == 0xE0: lo = 0xA0
            elif c == 0xED: hi = 0x9F
        elif 0xF0 <= c <= 0xF4:
            need = 3
            if c == 0xF0: lo = 0x90
            elif c == 0xF4: hi = 0x8F
        else:
            return False
        if i + need >= n:            # cut short
            return False
        if s[i + 1] < lo or s[i + 1] > hi:
            return False
        for k in range(2, need + 1):
            if (s[i + k] & 0xC0) != 0x80:
                return False
        i += need + 1
    return True


cdef class TokenTable:
    """Hash table of distinct tokens: counts them, then encodes text to ids."""

    def __cinit__(self, int max_word_bytes=1000, int64_t max_entries=0):
        if max_word_bytes < 1:
            raise ValueError("max_word_bytes must be >= 1")
        self.max_word_bytes = max_word_bytes
        self.max_entries = max_entries
        self.min_reduce = 1
        self.capacity = MIN_CAPACITY
        self.slots = <uint64_t *> calloc(self.capacity, sizeof(uint64_t))
        self.entries_cap = MIN_CAPACITY // 2
        self.hashes = <uint64_t *> malloc(self.entries_cap * sizeof(uint64_t))
        self.records = <Entry *> malloc(self.entries_cap * sizeof(Entry))
        self.arena_cap = 1 << 20
        self.arena = <unsigned char *> malloc(self.arena_cap)
        self.carry = <unsigned char *> malloc(max_word_bytes + 8)
        if (self.slots == NULL or self.hashes == NULL or self.records == NULL
                or self.arena == NULL or self.carry == NULL):
            raise MemoryError()

    def __dealloc__(self):
        free(self.slots); free(self.hashes); free(self.records)
        free(self.ids); free(self.arena); free(self.carry)
        if self.out_array is None:
            free(self.out_units)
        free(self.out_starts); free(self.out_line_start)

    def __len__(self):
        return self.n_entries

    # ---------------------------------------------------------------- hash table
    cdef int64_t find(self, const unsigned char *s, Py_ssize_t n, uint64_t h,
                      int64_t *slot) noexcept nogil:
        """The token's entry index, or -1 with ``slot[0]`` the empty slot where it would go."""
        cdef int64_t mask = self.capacity - 1
        cdef int64_t pos = <int64_t> (h & <uint64_t> mask)
        cdef uint64_t v, tag = h >> 32, head = head_bytes(s, n)
        cdef int64_t e
        cdef Entry *ent
        while True:
            v = self.slots[pos]
            if v == EMPTY_SLOT:
                slot[0] = pos
                return -1
            if (v >> 32) == tag:
                e = <int64_t> (v & INDEX_MASK) - 1
                ent = &self.records[e]
                if ent.length == n and ent.head == head and (
                        n <= 8 or same_bytes(self.arena + ent.offset + 8, s + 8, n - 8)):
                    return e
            pos = (pos + 1) & mask

    cdef int rehash(self, int64_t new_capacity) noexcept nogil:
        cdef uint64_t *new_slots = <uint64_t *> malloc(new_capacity * sizeof(uint64_t))
        if new_slots == NULL:
            return -1
        advise_huge(new_slots, new_capacity * sizeof(uint64_t))
        memset(new_slots, 0, new_capacity * sizeof(uint64_t))
        cdef int64_t i, pos, mask = new_capacity - 1
        for i in range(self.n_entries):
            pos = <int64_t> (self.hashes[i] & <uint64_t> mask)
            while new_slots[pos] != EMPTY_SLOT:
                pos = (pos + 1) & mask
            new_slots[pos] = ((self.hashes[i] >> 32) << 32) | <uint64_t> (i + 1)
        free(self.slots)
        self.slots = new_slots
        self.capacity = new_capacity
        return 0

    cdef int resize_entries(self, int64_t cap) noexcept nogil:
        """Room for ``cap`` entries (-1 when out of memory)."""
        cdef void *p
        p = realloc(self.hashes, cap * sizeof(uint64_t))
        if p == NULL: return -1
        self.hashes = <uint64_t *> p
        p = realloc(self.records, cap * sizeof(Entry))
        if p == NULL: return -1
        self.records = <Entry *> p
        self.entries_cap = cap
        advise_huge(self.hashes, cap * sizeof(uint64_t))
        advise_huge(self.records, cap * sizeof(Entry))
        return 0

    cdef int insert(self, int64_t pos, const unsigned char *s, Py_ssize_t n, uint64_t h) noexcept nogil:
        cdef void *p
        cdef Py_ssize_t i
        if self.n_entries >= MAX_ENTRIES:
            return -1            # 2**32 - 1 distinct tokens: beyond what the slots can index
        if self.n_entries == self.entries_cap and self.resize_entries(self.entries_cap * 2) != 0:
            return -1
        while self.arena_len + n > self.arena_cap:
            p = realloc(self.arena, self.arena_cap * 2)
            if p == NULL: return -1
            self.arena = <unsigned char *> p
            self.arena_cap *= 2
        memcpy(self.arena + self.arena_len, s, n)
        cdef int64_t e = self.n_entries
        self.hashes[e] = h
        self.records[e].offset = self.arena_len
        self.records[e].length = <int32_t> n
        self.records[e].count = 1
        self.records[e].head = head_bytes(s, n)
        self.records[e].non_ascii = 0
        for i in range(n):
            self.records[e].non_ascii |= s[i] >> 7
        self.arena_len += n
        self.slots[pos] = ((h >> 32) << 32) | <uint64_t> (e + 1)
        self.n_entries += 1
        if self.n_entries * 2 > self.capacity:
            return self.rehash(self.capacity * 2)
        return 0

    cdef int prune_once(self, int64_t *remap) noexcept nogil:
        """Drop entries counted at most ``min_reduce`` times, compact, rehash and
        raise ``min_reduce``. Entries keep their relative order; with ``remap``
        (one slot per entry before the prune) set, ``remap[old]`` receives the
        entry's new index or -1 if it was dropped."""
        cdef int64_t i, kept = 0, new_len = 0
        cdef unsigned char *new_arena = <unsigned char *> malloc(self.arena_cap)
        if new_arena == NULL:
            return -1
        for i in range(self.n_entries):
            if self.records[i].count > self.min_reduce:
                memcpy(new_arena + new_len, self.arena + self.records[i].offset,
                       self.records[i].length)
                self.hashes[kept] = self.hashes[i]
                self.records[kept] = self.records[i]
                self.records[kept].offset = new_len
                new_len += self.records[i].length
                if remap != NULL:
                    remap[i] = kept
                kept += 1
            elif remap != NULL:
                remap[i] = -1
        free(self.arena)
        self.arena = new_arena
        self.arena_len = new_len
        self.n_entries = kept
        self.min_reduce += 1
        self.prunes += 1
        return self.rehash(self.capacity)

    cdef int prune(self) noexcept nogil:
        """Prune (:meth:`prune_once`) with a rising threshold until at most
        ``max_entries`` entries are left (the C tool's ReduceVocab)."""
        while self.n_entries > self.max_entries:
            if self.prune_once(NULL) != 0:
                return -1
        return 0

    # ---------------------------------------------------------------- per token
    cdef int64_t locate(self, const unsigned char *s, Py_ssize_t n, uint64_t *h,
                        Py_ssize_t *cut, int64_t *slot) noexcept nogil:
        """Count one token read and look it up: cuts it to ``max_word_bytes``
        (``cut[0]`` gets the kept length) and hashes it (``h[0]``). Returns its entry
        index, or -1 with ``slot[0]`` the empty slot where it would go."""
        cdef Py_ssize_t k = utf8_cut(s, n, self.max_word_bytes)
        if k < n:
            self.truncated_words += 1
        self.tokens += 1
        cut[0] = k
        h[0] = token_hash(s, k)
        return self.find(s, k, h[0], slot)

    cdef int64_t count_token(self, const unsigned char *s, Py_ssize_t n) noexcept nogil:
        """Count one occurrence of the token; its entry index, or -1 when out of memory.
        Never prunes, so the indices of other entries stay valid."""
        cdef uint64_t h
        cdef Py_ssize_t k
        cdef int64_t pos = 0
        cdef int64_t e = self.locate(s, n, &h, &k, &pos)
        cdef int room
        if e >= 0:
            self.records[e].count += 1
            return e
        room = self.make_room()
        if room < 0:
            return -1
        if room > 0:
            self.find(s, k, h, &pos)
        if self.insert(pos, s, k, h) != 0:
            return -1
        return self.n_entries - 1

    cdef int make_room(self) noexcept nogil:
        """Called by :meth:`count_token` before it adds an entry: 0 if nothing
        moved, 1 if entries were dropped (the slot is looked up again), -1 when out
        of memory. Here a no-op: :meth:`emit` prunes after adding instead."""
        return 0

    cdef int emit(self, const unsigned char *s, Py_ssize_t n) noexcept nogil:
        cdef uint64_t h
        cdef Py_ssize_t k
        cdef int64_t e, pos = 0
        if not self.encoding:
            if self.count_token(s, n) < 0:
                return -1
            if self.max_entries > 0 and self.n_entries > self.max_entries:
                return self.prune()
            return 0
        e = self.locate(s, n, &h, &k, &pos)
        if e < 0 or self.ids[e] < 0:
            return 0
        return self.push_id(self.ids[e])

    cdef int push_id(self, int32_t word_id) noexcept nogil:
        cdef void *p
        if self.sentence_len == self.max_sentence_length:
            self.close_sentence()       # split an over-long line into pieces
        if self.sentence_len == 0:
            if self.n_sentences + 1 >= self.starts_cap:
                p = realloc(self.out_starts, self.starts_cap * 2 * sizeof(int64_t))
                if p == NULL: return -1
                self.out_starts = <int64_t *> p
                p = realloc(self.out_line_start, self.starts_cap * 2)
                if p == NULL: return -1
                self.out_line_start = <uint8_t *> p
                self.starts_cap *= 2
            self.out_starts[self.n_sentences] = self.out_len
            self.out_line_start[self.n_sentences] = 0 if self.line_open else 1
            self.line_open = True
        if self.out_len + units_of(word_id) > self.out_cap:
            if self.out_array is not None:
                return -1           # a given output is sized exactly: never reached
            p = realloc(self.out_units, self.out_cap * 2 * sizeof(uint16_t))
            if p == NULL: return -1
            self.out_units = <uint16_t *> p
            self.out_cap *= 2
        self.out_len = put_id(self.out_units, self.out_len, word_id)
        self.out_words += 1
        self.sentence_len += 1
        return 0

    cdef void close_sentence(self) noexcept nogil:
        if self.sentence_len > 0:
            self.n_sentences += 1
            self.sentence_len = 0

    cdef void end_line(self) noexcept nogil:
        if self.encoding:
            self.close_sentence()
            self.line_open = False

    cdef int scan(self, const unsigned char *data, Py_ssize_t n) noexcept nogil:
        cdef Py_ssize_t i = 0, start, take
        cdef unsigned char c
        if self.in_token:
            while i < n and not is_space(data[i]):
                i += 1
            take = i
            if self.carry_len + take > self.max_word_bytes + 4:
                take = self.max_word_bytes + 4 - self.carry_len
            if take > 0:
                memcpy(self.carry + self.carry_len, data, take)
                self.carry_len += take
            if i == n:
                return 0
            self.in_token = False
            if self.emit(self.carry, self.carry_len) != 0:
                return -1
        while i < n:
            c = data[i]
            if is_space(c):
                if c == 10:
                    self.end_line()
                i += 1
                continue
            start = i
            while i < n and not is_space(data[i]):
                i += 1
            if i == n:
                # the token may continue in the next chunk: keep (a bounded prefix of) it
                take = i - start
                if take > self.max_word_bytes + 4:
                    take = self.max_word_bytes + 4
                memcpy(self.carry, data + start, take)
                self.carry_len = take
                self.in_token = True
                return 0
            if self.emit(data + start, i - start) != 0:
                return -1
        return 0

    # ---------------------------------------------------------------- Python API
    def feed(self, const unsigned char[::1] chunk):
        """Scan one chunk of text (counting or encoding, by the current pass)."""
        cdef int rc
        cdef Py_ssize_t n = chunk.shape[0]
        if n == 0:
            return
        with nogil:
            rc = self.scan(&chunk[0], n)
        if rc != 0:
            raise MemoryError("out of memory while scanning the corpus")

    cdef int flush_carry(self) noexcept nogil:
        """End of the text: emit the token a chunk boundary left carried (0, or -1 when
        out of memory)."""
        if not self.in_token:
            return 0
        self.in_token = False
        return self.emit(self.carry, self.carry_len)

    def finish(self):
        """End of the text: flush a carried token and close the last sentence."""
        if self.flush_carry() != 0:
            raise MemoryError("out of memory while scanning the corpus")
        self.end_line()

    def entries(self):
        """All distinct tokens counted: (list of bytes, int64 counts array)."""
        _, words, counts = self.selected_entries(1)      # every entry is counted at least once
        return words, counts

    def selected_entries(self, int64_t min_count):
        """The entries counted at least ``min_count`` times, plus every non-ASCII one
        (only those can merge with another after decoding invalid UTF-8):
        (int64 entry indices, list of bytes, int64 counts). Rarer ASCII tokens, most of
        a large corpus's distinct tokens, never become Python objects."""
        cdef int64_t i, n = 0
        for i in range(self.n_entries):
            if self.records[i].count >= min_count or self.records[i].non_ascii:
                n += 1
        index = np.empty(n, dtype=np.int64)
        counts = np.empty(n, dtype=np.int64)
        cdef int64_t[::1] iv = index, cv = counts
        cdef int64_t k = 0
        for i in range(self.n_entries):
            if self.records[i].count >= min_count or self.records[i].non_ascii:
                iv[k] = i
                cv[k] = self.records[i].count
                k += 1
        words = [self.arena[self.records[i].offset:self.records[i].offset + self.records[i].length]
                 for i in index]
        return index, words, counts

    def absorb(self, list tables, int64_t part, int64_t n_parts):
        """One thread's share of merging counting tables: add into this (fresh) table
        every entry of ``tables`` whose token falls in partition ``part`` of
        ``n_parts`` (:func:`partition_of`), so that ``n_parts`` threads build disjoint
        tables holding the merged counts. Returns, per table, the indices here of its
        entries in this partition, in its entry order (for :meth:`merged_index`). The
        tables must be counting and unpruned: pruning depends on the order tokens
        arrive in."""
        cdef TokenTable other
        cdef int64_t i, e, n, pos = 0
        cdef Entry *r
        cdef int rc = 0
        cdef int64_t[::1] out
        if self.encoding or self.prunes:
            raise RuntimeError("absorb: this table must be counting and unpruned")
        local = []
        cdef int64_t most = 0             # entries this partition can get: all distinct
        for t in tables:
            other = <TokenTable?> t
            if other.encoding or other.prunes:
                raise RuntimeError("absorb: a pruned table's counts depend on the part it read")
            n = 0
            with nogil:
                for i in range(other.n_entries):
                    n += partition_of(other.hashes[i], n_parts) == part
            local.append(np.empty(n, dtype=np.int64))
            most += n
        with nogil:                       # sized once: no rehash while merging
            rc = self.reserve(most)
        if rc != 0:
            raise MemoryError("out of memory while merging the counts")
        cdef uint64_t mask = <uint64_t> (self.capacity - 1)
        for k in range(len(tables)):
            other = <TokenTable> tables[k]
            out = local[k]
            if out.shape[0] == 0:
                continue
            n = 0
            with nogil:
                for i in range(other.n_entries):
                    # the hashes are known ahead: fetch the slot a later entry probes first
                    if i + PREFETCH_AHEAD < other.n_entries:
                        prefetch(&self.slots[other.hashes[i + PREFETCH_AHEAD] & mask])
                    if partition_of(other.hashes[i], n_parts) != part:
                        continue
                    r = &other.records[i]
                    e = self.find(other.arena + r.offset, r.length, other.hashes[i], &pos)
                    if e >= 0:
                        self.records[e].count += r.count
                    else:
                        rc = self.insert(pos, other.arena + r.offset, r.length, other.hashes[i])
                        if rc != 0:
                            break
                        e = self.n_entries - 1
                        self.records[e].count = r.count
                    out[n] = e
                    n += 1
            if rc != 0:
                raise MemoryError("out of memory while merging the counts")
        return local

    cdef int reserve(self, int64_t entries) noexcept nogil:
        """Room for ``entries`` entries without growing (-1 when out of memory)."""
        cdef int64_t capacity = self.capacity
        if entries > self.entries_cap and self.resize_entries(entries) != 0:
            return -1
        while capacity < 2 * entries + 2:
            capacity *= 2
        return self.rehash(capacity) if capacity != self.capacity else 0

    def merged_index(self, list local, const int64_t[::1] offsets):
        """Each entry's index among the merged entries: the partitions' tables in order,
        partition p's entry j being merged entry ``offsets[p] + j``. ``local[p]`` is
        what partition p's :meth:`absorb` returned for this table."""
        cdef int64_t n_parts = len(local), i, p
        if offsets.shape[0] != n_parts:
            raise ValueError("one offset per partition")
        cdef const int64_t **src = <const int64_t **> malloc(max(n_parts, 1) * sizeof(int64_t *))
        cdef int64_t *cursor = <int64_t *> calloc(max(n_parts, 1), sizeof(int64_t))
        if src == NULL or cursor == NULL:
            free(src); free(cursor)
            raise MemoryError()
        cdef const int64_t[::1] view
        keep = []
        for p in range(n_parts):
            view = local[p]
            keep.append(view)
            src[p] = &view[0] if view.shape[0] else NULL
        out = np.empty(self.n_entries, dtype=np.int64)
        cdef int64_t[::1] o = out
        with nogil:
            for i in range(self.n_entries):
                p = partition_of(self.hashes[i], n_parts)
                o[i] = offsets[p] + src[p][cursor[p]]
                cursor[p] += 1
        free(src); free(cursor)
        return out

    def invalid_utf8(self):
        """Entries whose bytes are not valid UTF-8 (only those can decode to the same
        text as another entry, or out of byte order)."""
        cdef int64_t i, n = 0
        with nogil:
            for i in range(self.n_entries):
                if self.records[i].non_ascii and not valid_utf8(
                        self.arena + self.records[i].offset, self.records[i].length):
                    n += 1
        return n

    def keep_only(self, const int32_t[::1] entry_ids):
        """Before encoding: drop every entry whose id is -1 and shrink the table to the
        rest. A token the table lacks is skipped exactly like one whose id is -1, so
        the encoding is unchanged, while the table shrinks from every distinct token
        to the vocabulary. Returns the kept entries' ids (the new ``entry_ids``)."""
        if self.encoding:
            raise RuntimeError("keep_only: the table is encoding")
        if entry_ids.shape[0] != self.n_entries:
            raise ValueError("entry_ids must have one id per entry")
        cdef int64_t i, kept = 0, arena_len = 0, capacity = MIN_CAPACITY
        for i in range(self.n_entries):
            if entry_ids[i] >= 0:
                kept += 1
                arena_len += self.records[i].length
        out = np.empty(kept, dtype=np.int32)
        cdef int32_t[::1] o = out
        cdef unsigned char *arena = <unsigned char *> malloc(max(arena_len, 1))
        if arena == NULL:
            raise MemoryError()
        kept = 0
        arena_len = 0
        with nogil:         # the parts' tables shrink on threads of their own
            for i in range(self.n_entries):
                if entry_ids[i] < 0:
                    continue
                memcpy(arena + arena_len, self.arena + self.records[i].offset, self.records[i].length)
                self.hashes[kept] = self.hashes[i]
                self.records[kept] = self.records[i]
                self.records[kept].offset = arena_len
                arena_len += self.records[i].length
                if kept < o.shape[0]:
                    o[kept] = entry_ids[i]
                kept += 1
        free(self.arena)
        self.arena, self.arena_len, self.arena_cap = arena, arena_len, max(arena_len, 1)
        self.n_entries = kept
        cdef void *p = realloc(self.hashes, max(kept, 1) * sizeof(uint64_t))
        if p != NULL:
            self.hashes = <uint64_t *> p
        p = realloc(self.records, max(kept, 1) * sizeof(Entry))
        if p != NULL:
            self.records = <Entry *> p
        self.entries_cap = max(kept, 1)
        while capacity < 2 * kept:
            capacity *= 2
        cdef int rc
        with nogil:
            rc = self.rehash(capacity)
        if rc != 0:
            raise MemoryError()
        return out

    def lookup_count(self, bytes word):
        """Count of one token (0 if absent); for tests."""
        cdef const unsigned char *s = word
        cdef Py_ssize_t n = len(word)
        cdef int64_t pos = 0
        cdef int64_t e = self.find(s, n, token_hash(s, n), &pos)
        return 0 if e < 0 else self.records[e].count

    def units_for(self, const int32_t[::1] entry_ids):
        """Units this table's counted tokens encode to with these entry ids: the exact
        size of its part of the encoded corpus."""
        if entry_ids.shape[0] != self.n_entries:
            raise ValueError("entry_ids must have one id per entry")
        cdef int64_t i, total = 0
        for i in range(self.n_entries):
            if entry_ids[i] >= 0:
                total += self.records[i].count * units_of(entry_ids[i])
        return total

    def start_encoding(self, const int32_t[::1] entry_ids, int64_t max_sentence_length,
                       int64_t expected_units=0, out=None):
        """Switch to the encoding pass: ``entry_ids[e]`` is entry e's vocabulary id or -1.

        ``expected_units``, when known (:func:`packed_size` of the vocabulary counts),
        sizes the output once, so it never grows by copying. ``out``, a writeable
        uint16 array of exactly the units the pass will write (:meth:`units_for`),
        takes them instead (a part of a corpus encoded by several threads writes
        straight into its slice of the whole)."""
        if entry_ids.shape[0] != self.n_entries:
            raise ValueError("entry_ids must have one id per entry")
        if max_sentence_length < 1:
            raise ValueError("max_sentence_length must be >= 1")
        free(self.ids)
        self.ids = <int32_t *> malloc(max(1, self.n_entries) * sizeof(int32_t))
        if self.ids == NULL:
            raise MemoryError()
        cdef int64_t i
        for i in range(self.n_entries):
            self.ids[i] = entry_ids[i]
        self.encoding = True
        self.max_sentence_length = max_sentence_length
        self.tokens = 0
        self.truncated_words = 0
        self.in_token = False
        cdef uint16_t[::1] given
        if self.out_array is None:
            free(self.out_units)
        self.out_units = NULL
        self.out_array = None
        if out is not None:
            given = out
            self.out_array = out
            self.out_cap = given.shape[0]
            self.out_units = &given[0] if given.shape[0] else <uint16_t *> self.carry
        else:
            self.out_cap = max(expected_units + 16, 1024)
            self.out_units = <uint16_t *> malloc(self.out_cap * sizeof(uint16_t))
        self.starts_cap = 1024
        self.out_starts = <int64_t *> malloc(self.starts_cap * sizeof(int64_t))
        self.out_line_start = <uint8_t *> malloc(self.starts_cap)
        if self.out_units == NULL or self.out_starts == NULL or self.out_line_start == NULL:
            raise MemoryError()
        self.out_len = self.out_words = self.n_sentences = self.sentence_len = 0
        self.line_open = False

    def drain_encoded(self):
        """Hand over the sentences encoded and closed so far, as copies: (units uint16,
        sentence_starts int64 relative to those units, without an end offset,
        line_start uint8). A sentence still open (its line has not ended) stays, and
        moves to the front of the buffer; :meth:`take_encoded` gives the rest. Called
        after each chunk, it keeps the encoding pass's memory to one chunk's worth."""
        if not self.encoding or self.out_array is not None:
            raise RuntimeError("not encoding into a buffer of this table's own")
        cdef int64_t n_closed = self.n_sentences
        cdef int64_t cut = self.out_starts[n_closed] if self.sentence_len > 0 else self.out_len
        units = np.empty(cut, dtype=np.uint16)
        starts = np.empty(n_closed, dtype=np.int64)
        line_start = np.empty(n_closed, dtype=np.uint8)
        cdef uint16_t[::1] u = units
        cdef int64_t[::1] st = starts
        cdef uint8_t[::1] ls = line_start
        if cut:
            memcpy(&u[0], self.out_units, cut * sizeof(uint16_t))
        if n_closed:
            memcpy(&st[0], self.out_starts, n_closed * sizeof(int64_t))
            memcpy(&ls[0], self.out_line_start, n_closed)
        # the open sentence (if any) becomes sentence 0 of an empty buffer
        memmove(self.out_units, self.out_units + cut, (self.out_len - cut) * sizeof(uint16_t))
        self.out_len -= cut
        if self.sentence_len > 0:
            self.out_starts[0] = 0
            self.out_line_start[0] = self.out_line_start[n_closed]
        self.n_sentences = 0
        return units, starts, line_start

    def take_encoded(self):
        """Hand over the encoded corpus: (units uint16, the packed ids; sentence_starts
        int64, unit offsets with a final end offset; line_start uint8 per sentence;
        the number of ids). The table keeps nothing."""
        if not self.encoding:
            raise RuntimeError("not encoding")
        self.close_sentence()
        self.out_starts[self.n_sentences] = self.out_len
        # shrink to size; the arrays then own the buffers (no copy)
        cdef void *p
        if self.out_array is not None:
            units = self.out_array[:self.out_len]
            self.out_array = None
        else:
            p = realloc(self.out_units, max(1, self.out_len) * sizeof(uint16_t))
            if p != NULL:
                self.out_units = <uint16_t *> p
            units = owning_array(self.out_units, self.out_len, cnp.NPY_UINT16)
        self.out_units = NULL
        starts = owning_array(self.out_starts, self.n_sentences + 1, cnp.NPY_INT64)
        self.out_starts = NULL
        line_start = owning_array(self.out_line_start, self.n_sentences, cnp.NPY_UINT8)
        self.out_line_start = NULL
        self.encoding = False
        return units, starts, line_start, self.out_words


# ----------------------------------------------------------------------------- ranking
cdef extern from *:
    """
    #define w2v_bswap64(x) __builtin_bswap64(x)
    """
    uint64_t bswap64 "w2v_bswap64"(uint64_t x) noexcept nogil


cdef struct Ranked:
    int64_t count
    uint64_t key                  # the first 8 bytes, big-endian: settles most ties at once
    const unsigned char *text
    int64_t length
    int64_t index                 # merged entry index


cdef int compare_ranked(const void *a, const void *b) noexcept nogil:
    """Count descending, then bytes ascending (a prefix first). Keys that differ order
    as the bytes do: zero padding sorts a shorter token before any longer one."""
    cdef const Ranked *x = <const Ranked *> a
    cdef const Ranked *y = <const Ranked *> b
    if x.count != y.count:
        return -1 if x.count > y.count else 1
    if x.key != y.key:
        return -1 if x.key < y.key else 1
    cdef int c = memcmp(x.text, y.text, min(x.length, y.length))
    if c != 0:
        return c
    return (x.length > y.length) - (x.length < y.length)


def ranked_selection(list tables, int64_t min_count):
    """The entries of ``tables`` (disjoint counting tables: the partitions of a merge)
    counted at least ``min_count`` times, in the vocabulary's order: count descending,
    ties by their bytes, which for valid UTF-8 is the order of the decoded words.
    Returns (int64 merged indices, table k's entry e being the earlier tables' lengths
    plus e; their bytes joined by b"\\n", one decode for all; int64 counts)."""
    cdef TokenTable t
    cdef int64_t n = 0, base = 0, i, k = 0, text_len = 0
    for table in tables:
        t = <TokenTable?> table
        for i in range(t.n_entries):
            if t.records[i].count >= min_count:
                n += 1
                text_len += t.records[i].length + 1
    cdef Ranked *items = <Ranked *> malloc(max(n, 1) * sizeof(Ranked))
    if items == NULL:
        raise MemoryError()
    for table in tables:
        t = <TokenTable> table
        for i in range(t.n_entries):
            if t.records[i].count >= min_count:
                items[k].count = t.records[i].count
                items[k].key = bswap64(t.records[i].head)
                items[k].text = t.arena + t.records[i].offset
                items[k].length = t.records[i].length
                items[k].index = base + i
                k += 1
        base += t.n_entries
    with nogil:
        qsort(items, n, sizeof(Ranked), compare_ranked)
    index = np.empty(n, dtype=np.int64)
    counts = np.empty(n, dtype=np.int64)
    joined = PyBytes_FromStringAndSize(NULL, max(text_len - 1, 0))
    cdef int64_t[::1] iv = index, cv = counts
    cdef unsigned char *dst = <unsigned char *> PyBytes_AS_STRING(joined)
    for k in range(n):
        iv[k] = items[k].index
        cv[k] = items[k].count
        memcpy(dst, items[k].text, items[k].length)
        dst += items[k].length
        if k + 1 < n:
            dst[0] = 10
            dst += 1
    free(items)
    return index, joined, counts


# ----------------------------------------------------------------------------- packed ids
#: the smallest id that takes three units
FIRST_WIDE_ID = WIDE_ID


def packed_size(counts) -> int:
    """Units that a corpus with these per-id token ``counts`` packs into."""
    counts = np.asarray(counts, dtype=np.int64)
    return int(counts.sum()) + 2 * int(counts[WIDE_ID:].sum())


def pack_ids(ids):
    """int32 word ids (each >= 0) -> their packed uint16 units."""
    cdef const int32_t[::1] src = np.ascontiguousarray(ids, dtype=np.int32)
    cdef Py_ssize_t i, n = src.shape[0]
    cdef int64_t size = 0
    for i in range(n):
        if src[i] < 0:
            raise ValueError("word ids must be >= 0")
        size += units_of(src[i])
    out = np.empty(size, dtype=np.uint16)
    if size == 0:
        return out
    cdef uint16_t[::1] dst = out
    cdef int64_t pos = 0
    with nogil:
        for i in range(n):
            pos = put_id(&dst[0], pos, src[i])
    return out


def unpack_ids(units):
    """Packed uint16 units -> int32 word ids (raises ValueError if the stream is cut)."""
    cdef const uint16_t[::1] src = np.ascontiguousarray(units, dtype=np.uint16)
    cdef int64_t n = src.shape[0], pos = 0, count = 0
    while pos < n:
        pos += 1 if src[pos] != WIDE_ID else 3
        count += 1
    if pos != n:
        raise ValueError("packed ids end inside a wide id")
    out = np.empty(count, dtype=np.int32)
    if count == 0:
        return out
    cdef int32_t[::1] dst = out
    cdef int64_t i
    pos = 0
    with nogil:
        for i in range(count):
            dst[i] = take_id(&src[0], &pos)
    return out
