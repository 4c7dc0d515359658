# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False, language_level=3
"""The training core: nogil SGD kernels and the per-thread worker loop.

Names, and their classic word2vec.c equivalents
-----------------------------------------------
==================  ===========  ===============================================
here                word2vec.c   meaning
==================  ===========  ===============================================
input_vectors       syn0         (V, d) the word vectors that are kept (with subwords:
                                 each word's own row)
ngram_vectors       (fastText's  (buckets, d) character n-gram rows (subwords; w2v.subwords)
                    input rows
                    >= nwords)
output_ns           syn1neg      (V, d) output weights for negative sampling
output_hs           syn1         (V-1, d) weights of the Huffman tree's inner nodes
hidden              neu1         (d,) the hidden layer h
grad_hidden         neu1e        (d,) accumulated -alpha * dJ/dh
keep_threshold      (inline)     subsampling keep probability * 2**32
noise_table         table        Walker alias table of counts ** 0.75 (8 bytes/word,
                                 not the C tool's 400 MB table)
hs_paths            point, code  every word's Huffman path, packed to ~2 bytes a step
                                 (tables.PackedPaths; the C tool's vocab_word arrays)
==================  ===========  ===============================================

The objective and its gradients
-------------------------------
One *example* is a hidden vector ``h`` and a centre word ``w``. Skip-gram uses
``h = input_vectors[c]`` for one context word ``c`` (the C tool's pairing:
each context word predicts the centre); CBOW uses the mean (or sum) of the
context rows. The loss is a sum of logistic terms, one per output row ``o``
with a label ``y`` in {0, 1}::

    J = sum_o  -[ y log s(x_o) + (1 - y) log(1 - s(x_o)) ],   x_o = h . o,  s = sigmoid

* negative sampling: ``o = output_ns[w]`` with ``y = 1`` and k noise rows
  ``output_ns[n]`` with ``y = 0`` (a noise draw equal to ``w`` is redrawn);
* hierarchical softmax: for each inner node ``p`` on ``w``'s Huffman path,
  ``o = output_hs[p]`` with ``y = 1 - code`` (the C tool's convention).

Backprop through ``x = h . o`` (downstream = upstream x local) with
``dJ/dx = s(x) - y``::

    dJ/do = (s(x) - y) h          dJ/dh = sum_o (s(x_o) - y_o) o

With ``g = alpha (y - s(x))`` the SGD step ``theta <- theta - alpha dJ/dtheta``
is ``o += g h`` and ``grad_hidden += g o`` (taken with ``o`` *before* its
update, exactly the gradient at the current point); finally every input row
that formed ``h`` gets ``+= grad_hidden``. For skip-gram and for CBOW-sum that
is exactly ``-alpha dJ/d input_row``. For CBOW-mean, ``dJ/d input_row =
dJ/dh / n_context``; like word2vec.c and gensim we apply the undivided
``grad_hidden`` to each context row (a step ``n_context`` times larger on the
inputs, which is what their default learning rates are tuned for).

Subwords
--------
With subwords a word's input vector is the mean of its own row and its
n-gram rows. ``input_rows`` lists them (an ``Inputs`` buffer, as the output
layers list ``Targets``), so both kernels train any mode with them; during
training the window cache (``cache_load``/``cache_flush``) composes each
sentence position once and hands the kernels that vector as the word's only
row. Every row gets the undivided gradient, fastText's convention: with ``n``
rows, row ``r`` moves by ``-alpha n dJ/dr`` (``dJ/dr = dJ/dh / n``).

The corpus
----------
Sentences arrive as packed 16-bit units (:mod:`w2v._ids`: one unit per id
below 65,535, three for a rarer one), so the encoded corpus takes 2 bytes per
token instead of 4; ``run_shard`` unpacks each sentence while subsampling it.

Threads and progress
--------------------
Each Python thread calls :meth:`Trainer.run_shard`, which releases the GIL
and trains on its own range of sentences (Hogwild: shared matrices, no
locks). Per-thread state (buffers, RNG, double-precision loss) lives in a
``ThreadState``. Raw words (before subsampling) are published to a shared
counter with an atomic add every ``PUBLISH_EVERY`` words; the learning rate is
derived from that global count. A shared stop flag is polled once per
sentence so Ctrl-C stops every thread promptly.

Hot nodes
---------
Every hierarchical-softmax example writes the root of the Huffman tree and
the nodes just below it. With several threads those rows bounce between the
cores' caches on every write, enough to make cbow-hs slower on 2 threads than
on 1 (bench/README.md). So each thread updates private copies of the
``hot_nodes`` nodes nearest the root (``hot_hs``) and, every ``hot_sync_every``
centre words, adds ``hot_share`` (1/threads) of its change since the last sync
to the shared rows and reloads them (``sync_block``). Averaging the threads' changes in, rather than summing
them, cannot overshoot (summing diverged at 8-16 threads). Staging the rows of
the most frequent words the same way bought nothing for negative sampling, so
only Huffman nodes are staged.
"""
from libc.math cimport exp as _exp, expf, log1p as _log1p, logf
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset


cdef extern from "stdlib.h":
    int posix_memalign(void **memptr, size_t alignment, size_t size) nogil

from ._ids cimport take_id
from ._rng cimport next_random, random_below

import numpy as np

cimport numpy as cnp

cnp.import_array()


cpdef enum:
    MAX_CODE_LENGTH = 128     # packed units (>= steps) of one Huffman path; counts that fit
                              # in int64 cannot make a code longer than 92 (a Fibonacci bound)

cdef uint32_t ALWAYS = 0xFFFFFFFFu
cdef float MAX_LOGIT = 30.0   # |h.o| is clipped here before exp (s(30) == 1 in float)
cdef float LOGIT_TABLE_MAX = 8.0
cdef float LOGIT_TABLE_SCALE = LOGIT_TABLE_SIZE / (2 * 8.0)

# s(x) and softplus(-x) = -log s(x) tabulated on a 1/128 grid and linearly
# interpolated: error < 1e-6 (s) and < 2e-6 (softplus), where word2vec.c's
# 1000-entry table without interpolation is off by up to 3e-3. Outside the
# table the exact formulas are used, so there is no cut-off.
cdef float sigmoid_table[LOGIT_TABLE_SIZE + 1]
cdef float softplus_table[LOGIT_TABLE_SIZE + 1]


cdef void _fill_tables():
    cdef int k
    cdef double x
    for k in range(LOGIT_TABLE_SIZE + 1):
        x = (<double> k / LOGIT_TABLE_SCALE) - LOGIT_TABLE_MAX
        sigmoid_table[k] = <float> (1.0 / (1.0 + _exp(-x)))
        softplus_table[k] = <float> _log1p(_exp(-x))


_fill_tables()


# ----------------------------------------------------------------------------- RNG
cpdef uint64_t thread_seed(uint64_t seed, uint64_t thread_id, uint64_t epoch):
    """RNG state for (seed, thread, epoch): independent streams, reproducible."""
    cdef uint64_t s = seed
    cdef uint64_t a = next_random(&s)
    s = a ^ (thread_id * 0xD1B54A32D192ED03ULL)
    a = next_random(&s)
    s = a ^ (epoch * 0x8CB92BA72F3D8DD7ULL)
    return next_random(&s)


def uniform_init(float[:, ::1] out, uint64_t seed):
    """Fill ``out`` (V, d) with uniform values in [-0.5/d, 0.5/d), row after row, from a
    splitmix64 stream seeded by ``seed`` (word2vec.c's initialisation of input_vectors).

    Compiled rather than numpy.random: the same seed gives the same weights under any
    numpy version, and the run does not load numpy.random (6 MB of resident memory)."""
    cdef Py_ssize_t rows = out.shape[0], dim = out.shape[1], i, j
    cdef uint64_t state = seed ^ 0x5851F42D4C957F2DULL     # not the thread streams' start
    cdef float scale = 1.0 / 16777216.0                    # 24 random bits -> [0, 1) exactly
    if dim == 0:
        return
    with nogil:
        for i in range(rows):
            for j in range(dim):
                out[i, j] = (<float> (next_random(&state) >> 40) * scale - 0.5) / dim


def add_words_done(words_done, long long n):
    """Atomically add ``n`` to the shared progress counter the worker threads
    publish to (a cluster worker adds the other ranks' progress, so the learning
    rate follows the global word count)."""
    cdef long long *p = <long long *> _contig(words_done, np.int64, "words_done")
    return atomic_add(p, n)


cdef inline int32_t draw_noise(ThreadState *ts, const WordTables *t) noexcept nogil:
    """One draw from the alias table: a uniform bucket, then itself or its alias."""
    cdef uint64_t r = next_random(&ts.rng)
    cdef int64_t bucket = <int64_t> (((r >> 32) * <uint64_t> t.vocab_size) >> 32)
    cdef uint32_t u = <uint32_t> (r & 0xFFFFFFFFu)
    cdef uint32_t threshold = t.noise_table[2 * bucket]
    if u < threshold or threshold == ALWAYS:
        return <int32_t> bucket
    return <int32_t> t.noise_table[2 * bucket + 1]


# ----------------------------------------------------------------------------- rows
# Input rows: an example's hidden layer is formed from its words' input rows, listed by
# input_rows into an Inputs buffer: a word's own row of input_vectors and, with
# subwords, one row of ngram_vectors per character n-gram (w2v.subwords). The kernels
# train on whatever rows they are given, as they do with the output layers' Targets.

cdef inline void inputs_reset(Inputs *out) noexcept nogil:
    out.n_words = 0
    out.starts[0] = 0


cdef inline void input_rows(const Weights *w, const WordTables *t, int32_t word,
                            Inputs *out) noexcept nogil:
    """Append ``word``'s input rows: its own, then (with subwords) its n-grams'."""
    cdef int n = out.starts[out.n_words]
    cdef int64_t k
    out.rows[n] = w.input_vectors + <Py_ssize_t> word * w.dim
    n += 1
    if t.ngram_starts != NULL:
        for k in range(t.ngram_starts[word], t.ngram_starts[word + 1]):
            out.rows[n] = w.ngram_vectors + <Py_ssize_t> t.ngram_rows[k] * w.dim
            n += 1
    out.n_words += 1
    out.starts[out.n_words] = n


cdef inline const float *word_vector(const Inputs *inputs, int k, float *buffer,
                                     Py_ssize_t dim) noexcept nogil:
    """Word ``k``'s input vector: its row itself when it has one, else the mean of its
    rows written to ``buffer``."""
    cdef int first = inputs.starts[k], end = inputs.starts[k + 1], r
    cdef Py_ssize_t i
    cdef const float *row
    cdef float scale
    if end - first == 1:
        return inputs.rows[first]
    memset(buffer, 0, dim * sizeof(float))
    for r in range(first, end):
        row = inputs.rows[r]
        for i in range(dim):
            buffer[i] += row[i]
    scale = 1.0 / (end - first)
    for i in range(dim):
        buffer[i] *= scale
    return buffer


cdef inline float *ns_row(const Weights *w, int32_t word) noexcept nogil:
    return w.output_ns + <Py_ssize_t> word * w.dim


cdef inline float *hs_row(const Weights *w, int32_t node) noexcept nogil:
    if node >= w.hot_first_node:
        return w.hot_hs + <Py_ssize_t> (node - w.hot_first_node) * w.dim
    return w.output_hs + <Py_ssize_t> node * w.dim


# ----------------------------------------------------------------------------- output layers
# An output layer turns the centre word into the (row, label) pairs the example is
# scored on, and the kernels below train on whatever pairs they are given: adding
# an output layer means one function here, its rows in Weights, and a line in
# output_targets. Rows are prefetched as they are listed: they are random reads.

cdef inline void hs_targets(const Weights *w, const WordTables *t, int32_t word,
                            Targets *out) noexcept nogil:
    """Hierarchical softmax: the inner nodes on ``word``'s Huffman path from the root,
    label 1 - code. Each packed step is (previous node - node) * 2 + code (see
    tables.PackedPaths)."""
    cdef int64_t pos = t.hs_path_starts[word], end = t.hs_path_starts[word + 1]
    cdef int32_t node = t.hs_n_nodes, step
    if end - pos > MAX_CODE_LENGTH:       # packed() refuses such paths; never overrun
        end = pos + MAX_CODE_LENGTH
    while pos < end:
        step = take_id(t.hs_paths, &pos)
        node -= step >> 1
        out.rows[out.n] = hs_row(w, node)
        out.labels[out.n] = <float> (1 - (step & 1))
        prefetch_row(out.rows[out.n], w.dim)
        out.n += 1


cdef inline void ns_targets(const Weights *w, int32_t word, const int32_t *noise, int n_noise,
                            Targets *out) noexcept nogil:
    """Negative sampling: ``word``'s output row, label 1, and each noise word's, label 0."""
    cdef int k
    out.rows[out.n] = ns_row(w, word)
    out.labels[out.n] = 1.0
    prefetch_row(out.rows[out.n], w.dim)
    out.n += 1
    for k in range(n_noise):
        out.rows[out.n] = ns_row(w, noise[k])
        out.labels[out.n] = 0.0
        prefetch_row(out.rows[out.n], w.dim)
        out.n += 1


cdef inline int max_targets(int negative) noexcept nogil:
    """Room a Targets buffer needs: the longest Huffman path, the word and its noise."""
    return MAX_CODE_LENGTH + 1 + negative


cdef inline void output_targets(const Weights *w, const WordTables *t, int32_t word,
                                const int32_t *noise, int n_noise, int use_hs,
                                Targets *out) noexcept nogil:
    """Every enabled output layer's pairs for ``word``, hierarchical softmax first."""
    out.n = 0
    if use_hs and w.output_hs != NULL:
        hs_targets(w, t, word, out)
    if w.output_ns != NULL:
        ns_targets(w, word, noise, n_noise, out)


cdef inline void no_staging(Weights *w) noexcept nogil:
    """Every row read and written in the shared matrices (one thread, the test hooks)."""
    w.hot_first_node = w.n_nodes = (<int64_t> 1) << 62
    w.hot_hs = w.hot_hs_base = NULL


cdef inline void sync_block(float *shared, float *mine, float *base, Py_ssize_t n,
                            float share) noexcept nogil:
    """Add ``share`` of this thread's change since the last sync (mine - base) to the shared
    rows and take the result, which holds the other threads' changes too, as the new start."""
    cdef Py_ssize_t i
    cdef float v
    for i in range(n):
        v = shared[i] + share * (mine[i] - base[i])
        shared[i] = v
        mine[i] = v
        base[i] = v


cdef void sync_hot_nodes(const Weights *w) noexcept nogil:
    if w.output_hs != NULL and w.hot_first_node < w.n_nodes:
        sync_block(w.output_hs + <Py_ssize_t> w.hot_first_node * w.dim, w.hot_hs, w.hot_hs_base,
                   <Py_ssize_t> (w.n_nodes - w.hot_first_node) * w.dim, w.hot_share)


cdef void load_hot_nodes(const Weights *w) noexcept nogil:
    cdef Py_ssize_t n
    if w.output_hs != NULL and w.hot_first_node < w.n_nodes:
        n = <Py_ssize_t> (w.n_nodes - w.hot_first_node) * w.dim
        memcpy(w.hot_hs, w.output_hs + <Py_ssize_t> w.hot_first_node * w.dim, n * sizeof(float))
        memcpy(w.hot_hs_base, w.hot_hs, n * sizeof(float))


# ----------------------------------------------------------------------------- kernels
cdef inline float logistic(float x, float label, float *loss, int compute_loss) noexcept nogil:
    """s(x), and -log s(x) (y = 1) or -log s(-x) (y = 0) added to loss[0] if asked."""
    cdef float sig, pos, frac, softplus = 0.0, e
    cdef int k
    if -LOGIT_TABLE_MAX <= x < LOGIT_TABLE_MAX:
        pos = (x + LOGIT_TABLE_MAX) * LOGIT_TABLE_SCALE
        k = <int> pos
        frac = pos - k
        sig = sigmoid_table[k] + frac * (sigmoid_table[k + 1] - sigmoid_table[k])
        if compute_loss:
            softplus = softplus_table[k] + frac * (softplus_table[k + 1] - softplus_table[k])
    else:
        if x > MAX_LOGIT:
            x = MAX_LOGIT
        elif x < -MAX_LOGIT:
            x = -MAX_LOGIT
        e = expf(-x)
        sig = 1.0 / (1.0 + e)
        if compute_loss:
            softplus = logf(1.0 + e)
    if compute_loss:
        loss[0] += softplus if label > 0.5 else x + softplus   # -log s(-x) = x - log s(x)
    return sig


cdef inline float dot(const float *a, const float *b, Py_ssize_t dim) noexcept nogil:
    cdef float x = 0
    cdef Py_ssize_t i
    for i in range(dim):
        x += a[i] * b[i]
    return x


cdef inline double logistic_step(const float *h, float *out_row, float *grad_hidden,
                                 Py_ssize_t dim, float label, float alpha,
                                 int compute_loss) noexcept nogil:
    """One output row: x = h.o, g = alpha (y - s(x)); grad_hidden += g o; o += g h.

    Returns the term's loss -log s(x) (y = 1) or -log s(-x) (y = 0) if asked."""
    cdef float loss = 0.0
    cdef float g = (label - logistic(dot(h, out_row, dim), label, &loss, compute_loss)) * alpha
    cdef float o
    cdef Py_ssize_t i
    for i in range(dim):
        o = out_row[i]
        grad_hidden[i] += g * o
        out_row[i] = o + g * h[i]
    return loss


cdef double train_example(const Weights *w, const Inputs *inputs, const Targets *targets,
                          int cbow_mean, float alpha, ThreadState *ts,
                          int compute_loss) noexcept nogil:
    """One SGD step on one example (see the module docstring).

    IN  inputs: the rows forming h (their mean, or sum; a single row is used in
        place). targets: the output rows and labels.
    BUF ts.hidden, ts.grad_hidden
    OUT updates the input and target rows in place; returns the loss."""
    cdef Py_ssize_t dim = w.dim, i
    cdef int k, n_rows = inputs.starts[inputs.n_words]
    cdef const float *h
    cdef float *row
    cdef float *hidden = ts.hidden
    cdef float *grad_hidden = ts.grad_hidden
    cdef float scale
    cdef double loss = 0.0
    if n_rows == 1:
        h = inputs.rows[0]
    else:
        memset(hidden, 0, dim * sizeof(float))
        for k in range(n_rows):
            row = inputs.rows[k]
            for i in range(dim):
                hidden[i] += row[i]
        if cbow_mean:
            scale = 1.0 / n_rows
            for i in range(dim):
                hidden[i] *= scale
        h = hidden
    memset(grad_hidden, 0, dim * sizeof(float))
    for k in range(targets.n):
        loss += logistic_step(h, targets.rows[k], grad_hidden, dim, targets.labels[k], alpha,
                              compute_loss)
    for k in range(n_rows):
        row = inputs.rows[k]
        for i in range(dim):
            row[i] += grad_hidden[i]
    return loss


cdef double train_window_sg(const Weights *w, const Inputs *inputs, const Targets *targets,
                            float alpha, ThreadState *ts, int compute_loss) noexcept nogil:
    """Skip-gram on a whole window at once, sharing one set of output rows.

    The outputs are the centre word's targets, the inputs the window's context
    words (each its row, or the mean of its rows with subwords). Every gradient
    is taken at the current point (a minibatch step of the summed pair losses;
    Ji et al.'s HogBatch): each output row is read once per window instead of
    once per pair, which is what makes skip-gram fast, since those rows are
    random memory reads.

    IN  inputs (one word per context position), targets
    BUF ts.grad_inputs, ts.gains, ts.window_h, ts.window_hidden
    OUT updates the rows in place; returns the summed loss of the pairs."""
    cdef Py_ssize_t dim = w.dim, i
    cdef int b, k, n_ctx = inputs.n_words
    cdef float *o
    cdef float *row
    cdef const float *h
    cdef float label, gb
    cdef float loss = 0.0
    cdef float *grad_inputs = ts.grad_inputs
    cdef float *gains = ts.gains
    cdef const float **hs = <const float **> ts.window_h
    for b in range(n_ctx):
        hs[b] = word_vector(inputs, b, ts.window_hidden + b * dim, dim)
    memset(grad_inputs, 0, n_ctx * dim * sizeof(float))
    for k in range(targets.n):
        o = targets.rows[k]
        label = targets.labels[k]
        for b in range(n_ctx):
            gains[b] = (label - logistic(dot(hs[b], o, dim), label, &loss, compute_loss)) * alpha
        for b in range(n_ctx):
            gb = gains[b]
            for i in range(dim):
                grad_inputs[b * dim + i] += gb * o[i]
        for b in range(n_ctx):
            gb = gains[b]
            h = hs[b]
            for i in range(dim):
                o[i] += gb * h[i]
    for b in range(n_ctx):
        for k in range(inputs.starts[b], inputs.starts[b + 1]):
            row = inputs.rows[k]
            for i in range(dim):
                row[i] += grad_inputs[b * dim + i]
    return loss


cdef inline int draw_noise_set(ThreadState *ts, const WordTables *t, int negative,
                               int32_t target) noexcept nogil:
    """Fill ts.noise with ``negative`` draws, redrawing any equal to ``target``; returns
    how many it drew (fewer only when the distribution sits on ``target``)."""
    cdef int k = 0, tries
    cdef int32_t n
    while k < negative:
        n = draw_noise(ts, t)
        tries = 0
        while n == target and tries < MAX_NOISE_RETRIES:
            n = draw_noise(ts, t)
            tries += 1
        if n == target:
            return k           # a distribution concentrated on one word: use fewer
        ts.noise[k] = n
        k += 1
    return k


cdef inline void prefetch_ngrams(const Weights *w, const WordTables *t, const int32_t *sentence,
                                 int ahead, int window, int n) noexcept nogil:
    """Ask, in three stages, for what the window cache will read: the n-gram rows of the
    word at ``ahead`` (a few positions before it is loaded; its list was asked for a
    window ago), the list of the word a window further (its start was asked for a window
    before that), and where the word two windows further keeps its list. All are random
    reads in tables larger than the cache."""
    cdef int64_t k
    cdef int next_load = ahead, list_ahead = ahead + window, start_ahead = ahead + 2 * window
    if next_load < n:
        for k in range(t.ngram_starts[sentence[next_load]], t.ngram_starts[sentence[next_load] + 1]):
            prefetch_row(w.ngram_vectors + <Py_ssize_t> t.ngram_rows[k] * w.dim, w.dim)
    if list_ahead < n:
        prefetch_int(t.ngram_rows + t.ngram_starts[sentence[list_ahead]])
    if start_ahead < n:
        prefetch_int(t.ngram_starts + sentence[start_ahead])


# ----------------------------------------------------------------------------- window cache
# With subwords a word's vector is the mean of ~10-20 rows, and a word is a context in
# up to 2 x window examples. So each sentence position's vector is composed once, when
# it enters the window (cache_load), the examples read and update that one vector (the
# kernels see it as the word's only input row), and when the position leaves the
# window its accumulated change is added to every one of its rows (cache_flush): what
# updating all rows after every example does, since adding g to each row adds g to
# their mean. What differs is only that a row shared with another word in the window
# (a common n-gram, or the same word twice) shows that word's updates when the
# position leaves the window rather than at once, a delay of up to 2 x window examples
# like the one Hogwild threads see. Composing and updating ~15 rows per position
# instead of per example is what makes subword training fast.

cdef inline float *cache_slot(ThreadState *ts, int position, Py_ssize_t dim) noexcept nogil:
    """The slot of a sentence position: its current vector, then (dim floats on) the
    vector it was loaded with."""
    return ts.cache + <Py_ssize_t> (position % ts.cache_slots) * 2 * dim


cdef void cache_load(const Weights *w, const WordTables *t, ThreadState *ts,
                     int position) noexcept nogil:
    """Compose the vector of the word at ``position`` into its slot (and keep a copy)."""
    cdef Py_ssize_t dim = w.dim
    cdef float *vec = cache_slot(ts, position, dim)
    cdef const float *composed
    inputs_reset(&ts.inputs)           # free between examples: the window is listed later
    input_rows(w, t, ts.sentence[position], &ts.inputs)
    composed = word_vector(&ts.inputs, 0, vec, dim)
    if composed != vec:                # a word with no n-grams: its own row
        memcpy(vec, composed, dim * sizeof(float))
    memcpy(vec + dim, vec, dim * sizeof(float))


cdef void cache_flush(const Weights *w, const WordTables *t, ThreadState *ts,
                      int position) noexcept nogil:
    """Add the position's change since cache_load to each of its word's rows."""
    cdef Py_ssize_t dim = w.dim, i
    cdef float *vec = cache_slot(ts, position, dim)
    cdef float *change = ts.grad_hidden
    cdef float *row
    cdef int k
    for i in range(dim):
        change[i] = vec[i] - vec[dim + i]
    inputs_reset(&ts.inputs)
    input_rows(w, t, ts.sentence[position], &ts.inputs)
    for k in range(ts.inputs.starts[1]):
        row = ts.inputs.rows[k]
        for i in range(dim):
            row[i] += change[i]


cdef inline void word_inputs(const Weights *w, const WordTables *t, ThreadState *ts, int position,
                             Inputs *out) noexcept nogil:
    """Append the input rows of the word at sentence ``position``: its row, or with
    subwords its cached vector (standing for its row and n-gram rows)."""
    cdef int n
    if ts.cache_slots > 0:
        n = out.starts[out.n_words]
        out.rows[n] = cache_slot(ts, position, w.dim)
        out.n_words += 1
        out.starts[out.n_words] = n + 1
    else:
        input_rows(w, t, ts.sentence[position], out)


cdef void train_sentence(const Weights *w, const WordTables *t, const Settings *s, ThreadState *ts,
                         int n) noexcept nogil:
    """All examples of one (subsampled) sentence ``ts.sentence[:n]``."""
    cdef int i, j, lo, hi, span, n_ctx, n_noise = 0, loaded = 0, flushed = 0
    cdef int32_t centre
    cdef float alpha = <float> ts.alpha
    cdef bint staged = w.hot_first_node < w.n_nodes
    cdef bint cached = ts.cache_slots > 0       # subwords: words' vectors kept in the window cache
    for i in range(n):
        if staged:
            ts.since_sync += 1
            if ts.since_sync >= w.hot_sync_every:
                sync_hot_nodes(w)
                ts.since_sync = 0
        centre = ts.sentence[i]
        if cached:
            while flushed < i - s.window:                    # out of every window from now on
                cache_flush(w, t, ts, flushed)
                flushed += 1
            prefetch_ngrams(w, t, ts.sentence, i + s.window + 4, s.window, n)
            while loaded < n and loaded <= i + s.window:     # every context this centre may use
                cache_load(w, t, ts, loaded)
                loaded += 1
        span = s.window
        if s.shrink_window:
            span = s.window - <int> random_below(&ts.rng, <uint32_t> s.window)   # 1..window
        lo = i - span
        if lo < 0:
            lo = 0
        hi = i + span + 1
        if hi > n:
            hi = n
        if s.sg and not s.sg_batch:
            # word2vec.c's skip-gram: one step per (context, centre) pair, fresh noise each
            for j in range(lo, hi):
                if j == i:
                    continue
                if s.negative > 0:
                    n_noise = draw_noise_set(ts, t, s.negative, centre)
                output_targets(w, t, centre, ts.noise, n_noise, s.hs, &ts.targets)
                inputs_reset(&ts.inputs)
                word_inputs(w, t, ts, j, &ts.inputs)
                ts.loss += train_example(w, &ts.inputs, &ts.targets, 1, alpha, ts, s.compute_loss)
                ts.examples += 1
            continue
        inputs_reset(&ts.inputs)
        for j in range(lo, hi):
            if j != i:
                word_inputs(w, t, ts, j, &ts.inputs)
        n_ctx = ts.inputs.n_words
        if n_ctx == 0:
            continue
        if s.negative > 0:
            n_noise = draw_noise_set(ts, t, s.negative, centre)
        output_targets(w, t, centre, ts.noise, n_noise, s.hs, &ts.targets)
        if s.sg:            # batched skip-gram: the whole window in one step
            ts.loss += train_window_sg(w, &ts.inputs, &ts.targets, alpha, ts, s.compute_loss)
            ts.examples += n_ctx
        else:               # CBOW: the context predicts the centre
            ts.loss += train_example(w, &ts.inputs, &ts.targets, s.cbow_mean, alpha, ts,
                                     s.compute_loss)
            ts.examples += 1
    if cached:
        while flushed < loaded:
            cache_flush(w, t, ts, flushed)
            flushed += 1


cdef inline void publish(const Settings *s, const Shared *sh, ThreadState *ts) noexcept nogil:
    """Add local progress to the global counter; refresh alpha and the stats slot."""
    cdef long long done = atomic_add(sh.words_done, ts.words_unpublished)
    ts.words_total += ts.words_unpublished
    ts.words_unpublished = 0
    cdef double frac = <double> done / <double> s.total_words if s.total_words > 0 else 1.0
    if frac > 1.0:
        frac = 1.0
    ts.alpha = s.start_alpha - (s.start_alpha - s.end_alpha) * frac
    if ts.alpha < s.end_alpha:
        ts.alpha = s.end_alpha
    cdef double *slot = sh.stats + ts.thread_id * SLOT_STRIDE
    atomic_store_double(slot + STAT_LOSS, ts.loss)
    atomic_store_double(slot + STAT_EXAMPLES, <double> ts.examples)
    atomic_store_double(slot + STAT_WORDS, <double> ts.words_total)


cdef int run_shard(const Weights *w, const WordTables *t, const Settings *s, const Corpus *c,
                   const Shared *sh, ThreadState *ts, int64_t first, int64_t last,
                   bint first_block, bint last_block) noexcept nogil:
    """Train on sentences [first, last). Returns 1 if stopped early, else 0.

    A shard may come in blocks: only the first sets alpha from the global progress,
    and only the last publishes the words still unpublished, so the alpha schedule
    (and the result) does not depend on where the blocks were cut."""
    cdef int64_t sent, p, start, end, n_read
    cdef int n
    cdef int32_t word
    cdef uint32_t thr
    if first_block:
        ts.words_unpublished = 0
        publish(s, sh, ts)        # sets alpha from the global progress so far
    load_hot_nodes(w)
    for sent in range(first, last):
        if atomic_load_int(sh.stop):
            sync_hot_nodes(w)
            publish(s, sh, ts)
            return 1
        start = c.sentence_starts[sent]
        end = c.sentence_starts[sent + 1]
        n = 0
        n_read = 0
        p = start
        while p < end:
            word = take_id(c.units, &p)
            n_read += 1
            if t.keep_threshold != NULL:
                thr = t.keep_threshold[word]
                if thr != ALWAYS and <uint32_t> (next_random(&ts.rng) >> 32) >= thr:
                    continue
            ts.sentence[n] = word
            n += 1
        ts.words_unpublished += n_read
        if n > 1:
            train_sentence(w, t, s, ts, n)
        if ts.words_unpublished >= PUBLISH_EVERY:
            publish(s, sh, ts)
    sync_hot_nodes(w)
    if last_block:
        publish(s, sh, ts)
    return 0


# ----------------------------------------------------------------------------- Python side
cdef float *float_ptr(object arr, Py_ssize_t dim, str name) except? NULL:
    if arr is None:
        return NULL
    cdef cnp.ndarray a = arr
    if a.dtype != np.float32 or not a.flags.c_contiguous or not a.flags.writeable:
        raise ValueError(f"{name} must be a writeable C-contiguous float32 array")
    if a.ndim != 2 or a.shape[1] != dim:
        raise ValueError(f"{name} must have shape (rows, {dim})")
    return <float *> a.data


#: Where each thread's totals sit in the shared stats array: ``stride`` doubles per thread
#: (a cache line each), the loss, examples and raw words at these offsets.
STATS_LAYOUT = {"stride": SLOT_STRIDE, "loss": STAT_LOSS, "examples": STAT_EXAMPLES,
                "words": STAT_WORDS}

#: What a Trainer's ``settings`` hold; the last four are optional (hot-node staging, and
#: ``cache_subwords``: with subwords, keep each window's word vectors in the window cache;
#: off, every example reads and updates all of its words' rows, for tests).
SETTINGS = ("sg", "cbow_mean", "negative", "hs", "window", "shrink_window", "compute_loss",
            "sg_batch", "max_sentence_length", "start_alpha", "end_alpha", "total_words",
            "n_threads", "hot_nodes", "hot_sync_every", "hot_share", "cache_subwords")
N_OPTIONAL_SETTINGS = 4


cdef class Trainer:
    """Holds the pointers to one training run's arrays; threads call :meth:`run_shard`.

    Every array is kept referenced here, so the pointers stay valid while any
    thread runs. The arrays are validated once, on construction."""

    cdef Weights weights
    cdef WordTables tables
    cdef Settings settings
    cdef Corpus corpus
    cdef Shared shared
    cdef list _keep_alive
    cdef readonly int n_threads
    cdef readonly int64_t hot_nodes     # Huffman nodes nearest the root each thread stages
    cdef int64_t n_nodes
    cdef readonly int max_word_rows     # the most input rows of one word (1 without subwords)

    def __init__(self, weights, tables, corpus, shared, dict settings):
        """``weights``: the matrices by name (``input_vectors``, ``ngram_vectors``,
        ``output_ns``, ``output_hs``; None for one that is off: :attr:`w2v.model.Model.weights`);
        ``tables``: the sampling tables (``.keep``, ``.noise``, ``.paths``, ``.path_starts``,
        ``.ngram_starts``, ``.ngram_rows``; :class:`w2v.engine.WordTables`); ``corpus``: ``.units``
        and ``.sentence_starts`` (:class:`w2v.corpus.EncodedCorpus`); ``shared``:
        (words_done, stop, stats), the arrays every thread writes; ``settings``: the
        keys of :data:`SETTINGS` (the last four optional)."""
        unknown = set(settings) - set(SETTINGS)
        missing = set(SETTINGS[:len(SETTINGS) - N_OPTIONAL_SETTINGS]) - set(settings)
        if unknown or missing:
            raise TypeError(f"settings: unknown {sorted(unknown)}, missing {sorted(missing)}")
        input_vectors, ngram_vectors = weights["input_vectors"], weights.get("ngram_vectors")
        output_ns, output_hs = weights["output_ns"], weights["output_hs"]
        ngram_starts, ngram_rows = tables.ngram_starts, tables.ngram_rows
        keep_threshold, noise_table = tables.keep, tables.noise
        hs_paths, hs_path_starts = tables.paths, tables.path_starts
        units, sentence_starts = corpus.units, corpus.sentence_starts
        words_done, stop, stats = shared
        cdef bint sg = settings["sg"], cbow_mean = settings["cbow_mean"], hs = settings["hs"]
        cdef bint shrink_window = settings["shrink_window"], sg_batch = settings["sg_batch"]
        cdef bint compute_loss = settings["compute_loss"]
        cdef int negative = settings["negative"], window = settings["window"]
        cdef int max_sentence_length = settings["max_sentence_length"]
        cdef int n_threads = settings["n_threads"]
        cdef double start_alpha = settings["start_alpha"], end_alpha = settings["end_alpha"]
        cdef int64_t total_words = settings["total_words"]
        cdef int64_t hot_nodes = settings.get("hot_nodes", 0)
        cdef int hot_sync_every = settings.get("hot_sync_every", 256)
        cdef float hot_share = settings.get("hot_share", -1.0)
        cdef Py_ssize_t dim = input_vectors.shape[1]
        cdef int64_t vocab_size = input_vectors.shape[0]
        memset(&self.weights, 0, sizeof(Weights))
        no_staging(&self.weights)
        self._keep_alive = [input_vectors, output_ns, output_hs, keep_threshold, noise_table,
                            hs_paths, hs_path_starts, units, sentence_starts, words_done, stop,
                            stats, ngram_vectors, ngram_starts, ngram_rows]
        self.weights.dim = dim
        self.weights.input_vectors = float_ptr(input_vectors, dim, "input_vectors")
        self.weights.output_ns = float_ptr(output_ns, dim, "output_ns") if negative > 0 else NULL
        self.weights.output_hs = float_ptr(output_hs, dim, "output_hs") if hs else NULL
        if negative > 0 and output_ns.shape[0] != vocab_size:
            raise ValueError("output_ns must have one row per word")
        if hs and output_hs.shape[0] != max(vocab_size - 1, 1):
            raise ValueError("output_hs must have vocab_size - 1 rows")
        self.tables.vocab_size = vocab_size
        self.tables.keep_threshold = _word_table(keep_threshold, vocab_size, 1, "keep_threshold", True)
        self.tables.noise_table = _word_table(noise_table, vocab_size, 2, "noise_table",
                                               negative == 0)
        if hs:
            _set_paths(&self.tables, hs_paths, hs_path_starts, vocab_size)
        self.max_word_rows = 1
        if ngram_vectors is not None:
            self.weights.ngram_vectors = float_ptr(ngram_vectors, dim, "ngram_vectors")
            self.max_word_rows = 1 + _set_ngrams(&self.tables, ngram_starts, ngram_rows,
                                                 vocab_size, ngram_vectors.shape[0])
        self.corpus.units = <const uint16_t *> _contig(units, np.uint16, "units")
        self.corpus.sentence_starts = <const int64_t *> _contig(sentence_starts, np.int64,
                                                                "sentence_starts")
        self.shared.words_done = <long long *> _contig(words_done, np.int64, "words_done")
        self.shared.stop = <int *> _contig(stop, np.int32, "stop")
        if stats.shape[0] < n_threads * SLOT_STRIDE:
            raise ValueError("stats too small")
        self.shared.stats = <double *> _contig(stats, np.float64, "stats")
        self.n_threads = n_threads
        if window < 1 or max_sentence_length < 1 or negative < 0:
            raise ValueError("window, max_sentence_length must be >= 1, negative >= 0")
        self.settings.sg = sg
        self.settings.cbow_mean = cbow_mean
        self.settings.negative = negative
        self.settings.hs = hs
        self.settings.window = window
        self.settings.shrink_window = shrink_window
        self.settings.sg_batch = sg_batch
        self.settings.compute_loss = compute_loss
        self.settings.max_sentence_length = max_sentence_length
        self.settings.start_alpha = start_alpha
        self.settings.end_alpha = end_alpha
        self.settings.total_words = total_words
        self.settings.cache_subwords = settings.get("cache_subwords", True)
        if hot_nodes < 0 or hot_sync_every < 1:
            raise ValueError("hot_nodes must be >= 0 and hot_sync_every >= 1")
        self.weights.hot_sync_every = hot_sync_every
        self.weights.hot_share = hot_share if hot_share > 0 else 1.0 / n_threads
        self.n_nodes = output_hs.shape[0] if hs else 0
        self.hot_nodes = min(hot_nodes, self.n_nodes)

    def run_shard(self, int thread_id, uint64_t rng_state, int64_t first, int64_t last,
                  tuple carry=None, bint last_block=True):
        """Train sentences [first, last) on the calling thread, without the GIL.

        Returns ``(loss, examples, words, stopped, carry)``. A thread that trains its
        shard in blocks passes each block's ``carry`` (its RNG, totals, unpublished
        words and alpha) into the next call, and ``last_block=False`` for all but the
        last: the result is then bit for bit the one call's (``rng_state`` is only
        read when ``carry`` is None)."""
        if not (0 <= thread_id < self.n_threads):
            raise ValueError("thread_id out of range")
        if first < 0 or last < first:
            raise ValueError("bad sentence range")
        cdef ThreadState ts
        cdef Py_ssize_t dim = self.weights.dim
        cdef int stopped
        cdef Weights view = self.weights        # this thread's view: shared rows + staged hot rows
        cdef float *staged = NULL
        cdef Py_ssize_t n_node_floats = <Py_ssize_t> self.hot_nodes * dim
        if self.hot_nodes > 0:
            staged = <float *> malloc(2 * n_node_floats * sizeof(float) + 64)
            if staged == NULL:
                raise MemoryError("cannot allocate the staged hot rows")
            view.n_nodes = self.n_nodes
            view.hot_first_node = view.n_nodes - self.hot_nodes
            view.hot_hs = staged
            view.hot_hs_base = staged + n_node_floats
        memset(&ts, 0, sizeof(ThreadState))
        if state_alloc(&ts, dim, self.settings.max_sentence_length, self.settings.window,
                       self.settings.negative, self.max_word_rows,
                       self.weights.ngram_vectors != NULL and self.settings.cache_subwords) != 0:
            state_free(&ts)
            free(staged)
            raise MemoryError("cannot allocate per-thread buffers")
        ts.rng = rng_state
        if carry is not None:
            (ts.rng, ts.loss, ts.examples, ts.words_total, ts.words_unpublished,
             ts.alpha) = carry
        ts.thread_id = thread_id
        try:
            with nogil:
                stopped = run_shard(&view, &self.tables, &self.settings, &self.corpus,
                                    &self.shared, &ts, first, last, carry is None,
                                    last_block)
        finally:
            state_free(&ts)
            free(staged)
        return (ts.loss, ts.examples, ts.words_total, bool(stopped),
                (ts.rng, ts.loss, ts.examples, ts.words_total, ts.words_unpublished, ts.alpha))


cdef void *line_alloc(size_t size) noexcept nogil:
    """``size`` bytes on whole 64-byte cache lines that nothing else uses (NULL if out of
    memory); release with free()."""
    cdef void *p = NULL
    if posix_memalign(&p, 64, (size + 63) & ~(<size_t> 63)) != 0:
        return NULL
    return p


cdef int state_alloc(ThreadState *ts, Py_ssize_t dim, int max_sentence_length, int window,
                     int negative, int max_word_rows, bint window_cache) noexcept nogil:
    """A thread's buffers for sentences up to ``max_sentence_length`` words, windows up to
    ``window`` words each side and words of up to ``max_word_rows`` input rows (and the
    window cache if asked: subwords); returns
    -1 if out of memory (release with state_free either way). Every buffer is on cache
    lines of its own: two threads' buffers side by side in one malloc arena would share
    a line and bounce it between the cores on every write."""
    cdef int contexts = 2 * window
    ts.hidden = <float *> line_alloc(dim * sizeof(float))
    ts.grad_hidden = <float *> line_alloc(dim * sizeof(float))
    ts.sentence = <int32_t *> line_alloc(max_sentence_length * sizeof(int32_t))
    ts.noise = <int32_t *> line_alloc((negative + 1) * sizeof(int32_t))
    ts.targets.rows = <float **> line_alloc(max_targets(negative) * sizeof(float *))
    ts.targets.labels = <float *> line_alloc(max_targets(negative) * sizeof(float))
    ts.targets.n = 0
    ts.inputs.rows = <float **> line_alloc(contexts * max_word_rows * sizeof(float *))
    ts.inputs.starts = <int *> line_alloc((contexts + 1) * sizeof(int))
    ts.inputs.n_words = 0
    ts.grad_inputs = <float *> line_alloc(contexts * dim * sizeof(float))
    ts.window_hidden = <float *> line_alloc(contexts * dim * sizeof(float))
    ts.window_h = <float **> line_alloc(contexts * sizeof(float *))
    ts.gains = <float *> line_alloc(contexts * sizeof(float))
    ts.cache_slots = contexts + 2 if window_cache else 0
    ts.cache = <float *> line_alloc(ts.cache_slots * 2 * dim * sizeof(float) + 64)
    if (ts.hidden == NULL or ts.grad_hidden == NULL or ts.sentence == NULL or ts.noise == NULL
            or ts.targets.rows == NULL or ts.targets.labels == NULL or ts.inputs.rows == NULL
            or ts.inputs.starts == NULL or ts.grad_inputs == NULL or ts.window_hidden == NULL
            or ts.window_h == NULL or ts.gains == NULL or ts.cache == NULL):
        return -1
    return 0


cdef void state_free(ThreadState *ts) noexcept nogil:
    free(ts.hidden); free(ts.grad_hidden); free(ts.sentence); free(ts.noise); free(ts.cache)
    free(ts.targets.rows); free(ts.targets.labels); free(ts.inputs.rows); free(ts.inputs.starts)
    free(ts.grad_inputs); free(ts.window_hidden); free(ts.window_h); free(ts.gains)


cdef const uint32_t *_word_table(object arr, int64_t n, int columns, str name,
                                 bint optional) except? NULL:
    """A uint32 table with one row (of ``columns`` values) per word, or NULL if optional."""
    if arr is None:
        if optional:
            return NULL
        raise ValueError(f"{name} is required")
    expected = (int(n),) if columns == 1 else (int(n), int(columns))
    if tuple(arr.shape) != expected:
        raise ValueError(f"{name} must have shape {expected}")
    return <const uint32_t *> _contig(arr, np.uint32, name)


cdef void *_contig(object arr, object dtype, str name) except NULL:
    cdef cnp.ndarray a = arr
    if a.dtype != dtype or not a.flags.c_contiguous:
        raise ValueError(f"{name} must be a C-contiguous {np.dtype(dtype).name} array")
    if a.size == 0:
        return <void *> 1   # never dereferenced: an empty table has no valid index
    return <void *> a.data


cdef int _set_paths(WordTables *t, hs_paths, hs_path_starts, int64_t vocab_size) except -1:
    """Point ``t`` at packed Huffman paths after checking their shape."""
    if hs_path_starts.shape[0] != vocab_size + 1:
        raise ValueError("hs_path_starts must have one entry per word plus the end")
    if hs_path_starts[0] != 0 or hs_path_starts[vocab_size] != hs_paths.shape[0]:
        raise ValueError("hs_path_starts must run from 0 to the length of hs_paths")
    t.hs_paths = <const uint16_t *> _contig(hs_paths, np.uint16, "hs_paths")
    t.hs_path_starts = <const int64_t *> _contig(hs_path_starts, np.int64, "hs_path_starts")
    t.hs_n_nodes = <int32_t> max(vocab_size - 1, 1)
    return 0


cdef int _set_ngrams(WordTables *t, ngram_starts, ngram_rows, int64_t vocab_size,
                     int64_t n_buckets) except -1:
    """Point ``t`` at every word's n-gram rows (CSR) after checking them; returns the
    most n-grams of one word."""
    if ngram_starts is None or ngram_rows is None:
        raise ValueError("ngram_vectors needs ngram_starts and ngram_rows")
    starts = np.asarray(ngram_starts)
    rows = np.asarray(ngram_rows)
    if starts.shape != (vocab_size + 1,) or starts[0] != 0 or starts[vocab_size] != rows.shape[0]:
        raise ValueError("ngram_starts must run from 0 to the length of ngram_rows, one "
                         "entry per word plus the end")
    counts = np.diff(starts)
    if (counts < 0).any():
        raise ValueError("ngram_starts must not decrease")
    if rows.size and (rows.min() < 0 or rows.max() >= n_buckets):
        raise ValueError("an n-gram row is outside ngram_vectors")
    t.ngram_starts = <const int64_t *> _contig(ngram_starts, np.int64, "ngram_starts")
    t.ngram_rows = <const int32_t *> _contig(ngram_rows, np.int32, "ngram_rows")
    return int(counts.max()) if counts.size else 0


# ----------------------------------------------------------------------------- test hooks
# Entry points that run one kernel, sampler or path walk from Python, for the tests
# (finite-difference gradients, the sampler's distribution): a unit of their own.
include "_core_hooks.pxi"
