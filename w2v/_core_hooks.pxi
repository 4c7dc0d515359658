# Included by _core.pyx (it needs the core's cdef kernels and structs): Python entry
# points to single kernels, the noise sampler, window spans, subsampling decisions and
# Huffman path walks, for the tests. Nothing in training calls them.
cdef enum:
    HOOK_EXAMPLE = 0
    HOOK_WINDOW = 1


cdef double _run_kernel(int kernel, input_vectors, output_ns, output_hs, hs_paths,
                        hs_path_starts, inputs, int target, noise, bint use_hs, bint cbow_mean,
                        float alpha, bint compute_loss, subwords) except? -1.0:
    """Point a Weights/WordTables at the arrays, check the ids, list the example's input
    rows and targets as the worker does, and apply one kernel in place."""
    cdef Weights w
    cdef WordTables t
    cdef ThreadState ts
    cdef Py_ssize_t dim = input_vectors.shape[1], k
    cdef int64_t V = input_vectors.shape[0]
    cdef int max_word_rows = 1
    cdef double loss
    memset(&t, 0, sizeof(WordTables))
    memset(&w, 0, sizeof(Weights))
    memset(&ts, 0, sizeof(ThreadState))
    no_staging(&w)
    w.dim = dim
    w.input_vectors = float_ptr(input_vectors, dim, "input_vectors")
    w.output_ns = float_ptr(output_ns, dim, "output_ns")
    w.output_hs = float_ptr(output_hs, dim, "output_hs") if use_hs else NULL
    cdef cnp.ndarray in_arr = np.ascontiguousarray(inputs, dtype=np.int32)
    cdef cnp.ndarray noise_arr = np.ascontiguousarray(noise if noise is not None else [],
                                                      dtype=np.int32)
    if in_arr.size < 1 or in_arr.min() < 0 or in_arr.max() >= V or not (0 <= target < V):
        raise ValueError("word ids out of range")
    if noise_arr.size and (noise_arr.min() < 0 or noise_arr.max() >= V):
        raise ValueError("noise ids out of range")
    if use_hs:
        _set_paths(&t, hs_paths, hs_path_starts, V)
    if subwords is not None:
        ngram_vectors, ngram_starts, ngram_rows = subwords
        w.ngram_vectors = float_ptr(ngram_vectors, dim, "ngram_vectors")
        max_word_rows = 1 + _set_ngrams(&t, ngram_starts, ngram_rows, V, ngram_vectors.shape[0])
    cdef const int32_t *ids = <const int32_t *> in_arr.data
    cdef int n_words = <int> in_arr.size
    try:
        if state_alloc(&ts, dim, 1, n_words, <int> noise_arr.size, max_word_rows, False) != 0:
            raise MemoryError()
        output_targets(&w, &t, target, <const int32_t *> noise_arr.data, <int> noise_arr.size,
                       use_hs, &ts.targets)
        inputs_reset(&ts.inputs)
        for k in range(n_words):
            input_rows(&w, &t, ids[k], &ts.inputs)
        if kernel == HOOK_EXAMPLE:
            loss = train_example(&w, &ts.inputs, &ts.targets, cbow_mean, alpha, &ts, compute_loss)
        else:
            loss = train_window_sg(&w, &ts.inputs, &ts.targets, alpha, &ts, compute_loss)
    finally:
        state_free(&ts)
    return loss


def py_train_example(input_vectors, output_ns, output_hs, hs_paths, hs_path_starts, inputs,
                     int target, noise, bint use_hs, bint cbow_mean,
                     float alpha, bint compute_loss=True, subwords=None):
    """Apply :func:`train_example` once, in place, and return its loss (tests only).

    ``output_ns`` None disables negative sampling; ``output_hs`` None disables HS;
    ``subwords`` = (ngram_vectors, ngram_starts, ngram_rows) adds each input word's
    n-gram rows (the example's hidden layer is then the mean, or sum, of all rows)."""
    return _run_kernel(HOOK_EXAMPLE, input_vectors, output_ns, output_hs, hs_paths,
                       hs_path_starts, inputs, target, noise, use_hs, cbow_mean, alpha,
                       compute_loss, subwords)


def py_train_window_sg(input_vectors, output_ns, output_hs, hs_paths, hs_path_starts, contexts,
                       int centre, noise, bint use_hs, float alpha,
                       bint compute_loss=True, subwords=None):
    """Apply :func:`train_window_sg` once, in place; returns its loss (tests only).
    ``subwords`` as for :func:`py_train_example` (each context word's vector is then the
    mean of its rows)."""
    return _run_kernel(HOOK_WINDOW, input_vectors, output_ns, output_hs, hs_paths,
                       hs_path_starts, contexts, centre, noise, use_hs, True, alpha,
                       compute_loss, subwords)


def py_draw_noise(noise_table, uint64_t rng_state, Py_ssize_t n):
    """``n`` draws from a packed alias table with the core's sampler (tests only)."""
    cdef ThreadState ts
    cdef WordTables t
    memset(&t, 0, sizeof(WordTables))
    t.vocab_size = noise_table.shape[0]
    t.noise_table = _word_table(noise_table, t.vocab_size, 2, "noise_table", False)
    ts.rng = rng_state
    out = np.empty(n, dtype=np.int32)
    cdef int32_t[::1] o = out
    cdef Py_ssize_t i
    with nogil:
        for i in range(n):
            o[i] = draw_noise(&ts, &t)
    return out


def py_window_spans(int window, uint64_t rng_state, Py_ssize_t n):
    """``n`` effective window sizes as the worker draws them (tests only)."""
    cdef uint64_t st = rng_state
    out = np.empty(n, dtype=np.int32)
    cdef int32_t[::1] o = out
    cdef Py_ssize_t i
    for i in range(n):
        o[i] = window - <int> random_below(&st, <uint32_t> window)
    return out


def py_keep_decisions(keep_threshold, ids, uint64_t rng_state):
    """Which of ``ids`` the worker's subsampling keeps (tests only)."""
    cdef const uint32_t[::1] thr = np.ascontiguousarray(keep_threshold, dtype=np.uint32)
    cdef const int32_t[::1] w = np.ascontiguousarray(ids, dtype=np.int32)
    out = np.empty(w.shape[0], dtype=np.bool_)
    cdef uint64_t st = rng_state
    cdef Py_ssize_t i
    cdef uint32_t t
    for i in range(w.shape[0]):
        t = thr[w[i]]
        out[i] = t == ALWAYS or <uint32_t> (next_random(&st) >> 32) < t
    return out


def py_huffman_paths(hs_paths, hs_path_starts, int64_t vocab_size):
    """Every word's Huffman path as the core unpacks it, flat and in word order:
    ``(nodes int32, codes uint8)``, the layout of ``tables.HuffmanCodes`` (tests only).
    The kernels see row pointers; over a one-column output_hs, a row's offset is its node."""
    cdef WordTables t
    cdef Weights w
    memset(&t, 0, sizeof(WordTables))
    memset(&w, 0, sizeof(Weights))
    _set_paths(&t, hs_paths, hs_path_starts, vocab_size)
    node_ids = np.zeros((t.hs_n_nodes, 1), dtype=np.float32)
    no_staging(&w)
    w.dim = 1
    w.output_hs = float_ptr(node_ids, 1, "node_ids")
    cdef float *path_rows[MAX_CODE_LENGTH]
    cdef float path_labels[MAX_CODE_LENGTH]
    cdef Targets path
    path.rows = path_rows
    path.labels = path_labels
    cdef int64_t total = 0, pos = 0
    cdef int32_t word
    cdef int k
    for word in range(vocab_size):
        path.n = 0
        hs_targets(&w, &t, word, &path)
        total += path.n
    nodes = np.empty(total, dtype=np.int32)
    codes = np.empty(total, dtype=np.uint8)
    cdef int32_t[::1] nodes_out = nodes
    cdef uint8_t[::1] codes_out = codes
    for word in range(vocab_size):
        path.n = 0
        hs_targets(&w, &t, word, &path)
        for k in range(path.n):
            nodes_out[pos] = <int32_t> (path_rows[k] - w.output_hs)
            codes_out[pos] = <uint8_t> (1.0 - path_labels[k])
            pos += 1
    return nodes, codes
