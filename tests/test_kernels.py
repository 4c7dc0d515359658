"""Every update rule (CBOW/SG x NS/HS) against a numpy reference and against
finite differences of the loss: the backprop of the course notes."""
import numpy as np
import pytest

from w2v import _core, tables

V, D = 12, 8


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def make(seed=0, scale=0.5):
    rng = np.random.default_rng(seed)
    inp = (rng.standard_normal((V, D)) * scale).astype(np.float32)
    out_ns = (rng.standard_normal((V, D)) * scale).astype(np.float32)
    out_hs = (rng.standard_normal((V - 1, D)) * scale).astype(np.float32)
    counts = np.sort(rng.integers(1, 100, V))[::-1].copy()
    huff = tables.huffman_codes(counts)
    return inp, out_ns, out_hs, huff


def reference_loss(inp, out_ns, out_hs, huff, inputs, target, noise, use_ns, use_hs, cbow_mean):
    """The objective of the module docstring, in float64."""
    rows = inp[inputs].astype(np.float64)
    h = rows.mean(0) if cbow_mean else rows.sum(0)
    loss = 0.0
    if use_hs:
        for code, point in zip(huff.code(target), huff.path(target)):
            x = h @ out_hs[point]
            loss += -np.log(sigmoid(x)) if code == 0 else -np.log(sigmoid(-x))
    if use_ns:
        loss += -np.log(sigmoid(h @ out_ns[target]))
        for n in noise:
            loss += -np.log(sigmoid(-(h @ out_ns[n])))
    return loss


def numeric_grad(f, arr, rows, eps=1e-3):
    """Central differences of f w.r.t. the given rows of arr (float64 copy)."""
    grad = np.zeros((len(rows), arr.shape[1]))
    for a, r in enumerate(rows):
        for j in range(arr.shape[1]):
            old = arr[r, j]
            arr[r, j] = old + eps
            up = f()
            arr[r, j] = old - eps
            down = f()
            arr[r, j] = old
            grad[a, j] = (up - down) / (2 * eps)
    return grad


CASES = [
    # (name, inputs, use_ns, use_hs, cbow_mean)
    ("sg-ns", [3], True, False, True),
    ("sg-hs", [3], False, True, True),
    ("sg-ns+hs", [3], True, True, True),
    ("cbow-mean-ns", [1, 4, 6, 9], True, False, True),
    ("cbow-mean-hs", [1, 4, 6, 9], False, True, True),
    ("cbow-sum-ns", [1, 4, 6, 9], True, False, False),
    ("cbow-sum-hs", [2, 5], False, True, False),
]


@pytest.mark.parametrize("name,inputs,use_ns,use_hs,cbow_mean", CASES, ids=[c[0] for c in CASES])
def test_update_is_minus_alpha_times_gradient(name, inputs, use_ns, use_hs, cbow_mean):
    inp, out_ns, out_hs, huff = make(seed=len(name))
    target, noise, alpha = 7, [0, 2, 10], 0.05
    inp64, ns64, hs64 = inp.astype(np.float64), out_ns.astype(np.float64), out_hs.astype(np.float64)

    def f():
        return reference_loss(inp64, ns64, hs64, huff, inputs, target, noise, use_ns, use_hs, cbow_mean)

    expected_loss = f()
    g_in = numeric_grad(f, inp64, inputs)
    g_ns = numeric_grad(f, ns64, [target] + noise)
    hs_rows = list(huff.path(target))
    g_hs = numeric_grad(f, hs64, hs_rows)

    a, b, c = inp.copy(), out_ns.copy(), out_hs.copy()
    paths = huff.packed()
    loss = _core.py_train_example(a, b if use_ns else None, c if use_hs else None, paths.units,
                                  paths.starts, inputs, target, noise, use_hs, cbow_mean, alpha)
    assert loss == pytest.approx(expected_loss, rel=1e-4)
    # input rows: exact gradient for skip-gram and CBOW-sum; CBOW-mean applies
    # dJ/dh = n * dJ/d(row) to every context row (word2vec.c's convention)
    factor = len(inputs) if (cbow_mean and len(inputs) > 1) else 1
    np.testing.assert_allclose(a[inputs] - inp[inputs], -alpha * factor * g_in, atol=2e-5)
    if use_ns:
        np.testing.assert_allclose(b[[target] + noise] - out_ns[[target] + noise], -alpha * g_ns,
                                   atol=2e-5)
    else:
        np.testing.assert_array_equal(b, out_ns)
    if use_hs:
        np.testing.assert_allclose(c[hs_rows] - out_hs[hs_rows], -alpha * g_hs, atol=2e-5)
    else:
        np.testing.assert_array_equal(c, out_hs)
    # nothing else moved
    untouched = np.setdiff1d(np.arange(V), inputs)
    np.testing.assert_array_equal(a[untouched], inp[untouched])


def reference_ns_step(inp, out_ns, inputs, target, noise, alpha):
    """A plain numpy SGD step (upstream x local), one output row after another, with
    h the mean of the input rows: the new (input, output) weights in float64."""
    h = inp[inputs].astype(np.float64).mean(axis=0)
    grad_h = np.zeros(D)
    new_out = out_ns.astype(np.float64).copy()
    for row, label in [(target, 1.0)] + [(n, 0.0) for n in noise]:
        g = alpha * (label - sigmoid(h @ new_out[row]))
        grad_h += g * new_out[row]
        new_out[row] += g * h
    new_in = inp.astype(np.float64).copy()
    new_in[inputs] += grad_h
    return new_in, new_out


def test_numpy_reference_step_sg_ns():
    """A plain numpy SGD step (upstream x local) gives the same new weights."""
    inp, out_ns, out_hs, huff = make(seed=3)
    c, target, noise, alpha = 5, 1, [4, 8], 0.1
    new_in, new_out = reference_ns_step(inp, out_ns, [c], target, noise, alpha)
    a, b = inp.copy(), out_ns.copy()
    _core.py_train_example(a, b, None, None, None, [c], target, noise, False, True, alpha)
    np.testing.assert_allclose(a, new_in, atol=1e-6)
    np.testing.assert_allclose(b, new_out, atol=1e-6)


@pytest.mark.parametrize("noise", [[4, 8, 9], [4, 8, 4]], ids=["distinct", "repeated"])
def test_numpy_reference_step_cbow_ns(noise):
    """CBOW-mean with noise rows taken one at a time: a row drawn twice sees its first
    update (the kernel takes the dot products of distinct rows first; same result)."""
    inp, out_ns, out_hs, huff = make(seed=4, scale=1.0)
    ctx, target, alpha = [2, 3, 6], 1, 0.2
    new_in, new_out = reference_ns_step(inp, out_ns, ctx, target, noise, alpha)
    a, b = inp.copy(), out_ns.copy()
    _core.py_train_example(a, b, None, None, None, ctx, target, noise, False, True, alpha)
    np.testing.assert_allclose(a, new_in, atol=1e-5)
    np.testing.assert_allclose(b, new_out, atol=1e-5)


def test_orthogonal_vectors_loss_log2_and_half_gradient():
    """h . o = 0: each term's loss is log 2 and its gradient factor is +-0.5."""
    inp = np.zeros((V, D), np.float32)
    inp[0, 0] = 1.0
    out = np.zeros((V, D), np.float32)
    out[1, 1] = 1.0                       # orthogonal to h
    alpha = 1.0
    a, b = inp.copy(), out.copy()
    loss = _core.py_train_example(a, b, None, None, None, [0], 1, [2], False, True, alpha)
    assert loss == pytest.approx(2 * np.log(2), rel=1e-6)
    # positive row moves by +0.5 h, noise row by -0.5 h; h moves by 0.5 o_pos - 0.5 o_noise
    np.testing.assert_allclose(b[1] - out[1], 0.5 * inp[0])
    np.testing.assert_allclose(b[2] - out[2], -0.5 * inp[0])
    np.testing.assert_allclose(a[0] - inp[0], 0.5 * out[1])


WINDOW_CASES = [("ns", True, False), ("hs", False, True), ("ns+hs", True, True)]


@pytest.mark.parametrize("name,use_ns,use_hs", WINDOW_CASES, ids=[c[0] for c in WINDOW_CASES])
def test_skipgram_window_step_is_minus_alpha_times_gradient(name, use_ns, use_hs):
    """The batched skip-gram kernel: the summed loss of all (context, centre)
    pairs of a window with one shared noise set; every row moves by -alpha x
    its gradient at the starting point."""
    inp, out_ns, out_hs, huff = make(seed=11 + len(name))
    contexts, centre, noise, alpha = [1, 4, 9, 2], 6, [0, 3, 11], 0.05
    inp64, ns64, hs64 = inp.astype(np.float64), out_ns.astype(np.float64), out_hs.astype(np.float64)

    def f():
        return sum(reference_loss(inp64, ns64, hs64, huff, [c], centre, noise, use_ns, use_hs, True)
                   for c in contexts)

    expected = f()
    g_in = numeric_grad(f, inp64, contexts)
    g_ns = numeric_grad(f, ns64, [centre] + noise)
    hs_rows = list(huff.path(centre))
    g_hs = numeric_grad(f, hs64, hs_rows)
    a, b, c = inp.copy(), out_ns.copy(), out_hs.copy()
    paths = huff.packed()
    loss = _core.py_train_window_sg(a, b if use_ns else None, c if use_hs else None, paths.units,
                                    paths.starts, contexts, centre, noise, use_hs, alpha)
    assert loss == pytest.approx(expected, rel=1e-4)
    np.testing.assert_allclose(a[contexts] - inp[contexts], -alpha * g_in, atol=2e-5)
    if use_ns:
        np.testing.assert_allclose(b[[centre] + noise] - out_ns[[centre] + noise], -alpha * g_ns,
                                   atol=2e-5)
    if use_hs:
        np.testing.assert_allclose(c[hs_rows] - out_hs[hs_rows], -alpha * g_hs, atol=2e-5)


def test_window_step_with_one_context_equals_pair_step():
    inp, out_ns, out_hs, huff = make(seed=5)
    a1, b1, c1 = inp.copy(), out_ns.copy(), out_hs.copy()
    a2, b2, c2 = inp.copy(), out_ns.copy(), out_hs.copy()
    paths = huff.packed()
    args = (paths.units, paths.starts)
    l1 = _core.py_train_window_sg(a1, b1, c1, *args, [3], 8, [1, 2], True, 0.1)
    l2 = _core.py_train_example(a2, b2, c2, *args, [3], 8, [1, 2], True, True, 0.1)
    assert l1 == pytest.approx(l2, rel=1e-6)
    np.testing.assert_allclose(a1, a2, atol=1e-7)
    np.testing.assert_allclose(b1, b2, atol=1e-7)
    np.testing.assert_allclose(c1, c2, atol=1e-7)
