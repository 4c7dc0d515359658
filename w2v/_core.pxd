# cython: language_level=3
"""Declarations of the training core (:mod:`w2v._core`), read by Cython before
``_core.pyx``: the atomics, the constants, and the small structs the kernels take
instead of long argument lists (the weights, the sampling tables, the settings,
the corpus, the state every thread shares and the state each thread owns)."""
from libc.stdint cimport int32_t, int64_t, uint16_t, uint32_t, uint64_t


cdef extern from *:
    """
    static inline long long w2v_atomic_add(long long *p, long long v) {
        return __atomic_add_fetch(p, v, __ATOMIC_RELAXED);
    }
    static inline long long w2v_atomic_load(long long *p) {
        return __atomic_load_n(p, __ATOMIC_RELAXED);
    }
    static inline int w2v_atomic_load_int(int *p) {
        return __atomic_load_n(p, __ATOMIC_RELAXED);
    }
    static inline void w2v_atomic_store_double(double *p, double v) {
        __atomic_store(p, &v, __ATOMIC_RELAXED);
    }
    /* Ask for a row's cache lines ahead of use: output rows are random reads. */
    static inline void w2v_prefetch_row(const float *row, Py_ssize_t dim) {
        const char *p = (const char *)row, *end = (const char *)(row + dim);
        for (; p < end; p += 64) __builtin_prefetch(p, 1, 3);
    }
    static inline void w2v_prefetch_int(const void *p) { __builtin_prefetch(p, 0, 3); }
    """
    long long atomic_add "w2v_atomic_add"(long long *p, long long v) nogil
    long long atomic_load "w2v_atomic_load"(long long *p) nogil
    int atomic_load_int "w2v_atomic_load_int"(int *p) nogil
    void atomic_store_double "w2v_atomic_store_double"(double *p, double v) nogil
    void prefetch_row "w2v_prefetch_row"(const float *row, Py_ssize_t dim) nogil
    void prefetch_int "w2v_prefetch_int"(const void *p) nogil


cdef enum:
    PUBLISH_EVERY = 10000     # raw words between updates of the shared progress counter
    MAX_NOISE_RETRIES = 16    # redraws when a noise sample hits the true word
    SLOT_STRIDE = 8           # doubles per thread in the stats array (64 bytes: no false sharing)
    STAT_LOSS = 0
    STAT_EXAMPLES = 1
    STAT_WORDS = 2

cdef enum:
    LOGIT_TABLE_SIZE = 2048   # intervals over [-LOGIT_TABLE_MAX, LOGIT_TABLE_MAX]

cdef struct Weights:
    float *input_vectors
    float *ngram_vectors    # (buckets, d) n-gram rows; NULL when subwords are off
    float *output_ns        # NULL when negative sampling is off
    float *output_hs        # NULL when hierarchical softmax is off
    Py_ssize_t dim
    # A thread's staged copies of the hottest Huffman nodes (see "Hot nodes" in _core.pyx);
    # hot_first_node = n_nodes when staging is off (one thread, and the test hooks).
    int64_t hot_first_node    # Huffman nodes [hot_first_node, n_nodes) (nearest the root)
    int64_t n_nodes
    float *hot_hs             # (n_nodes - hot_first_node, dim) this thread's working copies
    float *hot_hs_base        # and the shared values they were last synced with
    float hot_share           # fraction of a thread's staged change added at a sync (1/threads)
    int hot_sync_every        # centre words between syncs

cdef struct WordTables:
    const uint32_t *keep_threshold    # NULL: no subsampling
    const uint32_t *noise_table       # (V, 2): [threshold, alias] per bucket, one cache line
    int64_t vocab_size
    const uint16_t *hs_paths          # packed Huffman paths (tables.PackedPaths)
    const int64_t *hs_path_starts     # (V + 1,) unit offsets
    int32_t hs_n_nodes                # inner nodes, V - 1: one past the root
    const int64_t *ngram_starts       # (V + 1,) offsets into ngram_rows; NULL: no subwords
    const int32_t *ngram_rows         # each word's n-gram rows of ngram_vectors (w2v.subwords)

cdef struct Settings:
    int sg
    int cbow_mean
    int negative
    int hs
    int window
    int shrink_window
    int sg_batch
    int compute_loss
    int max_sentence_length
    double start_alpha
    double end_alpha
    int64_t total_words       # raw in-vocabulary words over all epochs
    int cache_subwords        # with subwords: the window cache (see _core.pyx)

cdef struct Corpus:
    const uint16_t *units             # the packed ids (_ids.pxd)
    const int64_t *sentence_starts    # unit offsets

cdef struct Shared:
    long long *words_done     # global raw-word progress (atomic)
    int *stop                 # set non-zero to stop every worker
    double *stats             # SLOT_STRIDE doubles per thread

cdef struct Targets:
    # The (row, label) pairs an example is scored on, as the output layers list them
    # (see "Output layers" in _core.pyx); room for MAX_CODE_LENGTH + 1 + negative.
    float **rows
    float *labels
    int n

cdef struct Inputs:
    # The input rows an example's hidden layer is formed from, as the words list them
    # (see "Input rows" in _core.pyx): word k's rows are rows[starts[k]:starts[k + 1]].
    float **rows
    int *starts
    int n_words

cdef struct ThreadState:
    uint64_t rng
    float *hidden             # neu1
    float *grad_hidden        # neu1e
    int32_t *sentence         # kept (subsampled) ids of the current sentence
    int32_t *noise            # noise ids of the current example
    Inputs inputs             # the input rows of the current example
    Targets targets           # the output rows of the current example
    float *grad_inputs        # (2 window, dim) skip-gram window gradients
    float *window_hidden      # (2 window, dim) skip-gram context vectors made of several rows
    float **window_h          # (2 window,) each context word's vector (a row, or window_hidden)
    float *cache              # subwords: (cache_slots, 2, dim) the window cache (see _core.pyx)
    int cache_slots           # 2 window + 2 with subwords, else 0 (no cache)
    float *gains              # (2 window,)
    double loss
    int64_t examples
    int64_t words_unpublished
    int64_t words_total
    double alpha
    int thread_id
    int since_sync            # centre words since the staged hot rows were last synced
