"""The query API on hand-built vectors whose answers are known."""
import numpy as np
import pytest

from w2v.errors import ConfigError, FormatError, UnknownWordError
from w2v.vectors import Vectors, parse_analogy, pca_2d, top_k


def planted():
    """king - man + woman = queen exactly; other words orthogonal-ish."""
    basis = np.eye(6, dtype=np.float32)
    royal, male, female, person, fruit, other = basis
    words = {
        "man": person + male,
        "woman": person + female,
        "king": person + male + 2 * royal,
        "queen": person + female + 2 * royal,
        "apple": fruit,
        "pear": fruit + 0.2 * other,
        "zero": np.zeros(6, np.float32),
    }
    return Vectors(list(words), np.array(list(words.values())))


def test_container_protocol():
    v = planted()
    assert len(v) == 7 and v.dim == 6
    assert "king" in v and "emperor" not in v
    assert v.index["queen"] == 3 and v.words[3] == "queen"
    row = v["king"]
    assert row.dtype == np.float32
    np.testing.assert_array_equal(row, v.matrix[2])
    row[:] = 99                                   # a copy: the vectors do not change
    assert v.matrix[2, 0] == 2
    assert v[["man", "king"]].shape == (2, 6)


def test_unknown_words_are_all_named():
    v = planted()
    with pytest.raises(UnknownWordError) as e:
        v.most_similar(positive=["king", "emperor"], negative=["tsar"])
    assert e.value.words == ["emperor", "tsar"]
    assert "'emperor'" in str(e.value) and "'tsar'" in str(e.value)
    with pytest.raises(UnknownWordError, match="'x'.*'y'"):
        v[["x", "king", "y"]]
    with pytest.raises(KeyError):                 # also a KeyError, like a dict
        v["nope"]


def test_unit_matrix_cached_zero_rows_stay_zero():
    v = planted()
    u = v.unit_matrix
    assert u is v.unit_matrix
    np.testing.assert_allclose(np.linalg.norm(u[:6], axis=1), 1, rtol=1e-6)
    assert not np.isnan(u).any()
    np.testing.assert_array_equal(u[6], 0)
    with pytest.raises(ValueError):
        u[0, 0] = 1                               # read-only: nobody mutates the cache


def test_most_similar_solves_the_planted_analogy():
    v = planted()
    best = v.most_similar(positive=["king", "woman"], negative=["man"], topn=3)
    assert best[0][0] == "queen"
    unit = lambda x: x / np.linalg.norm(x)  # noqa: E731
    q = unit(v["king"]) + unit(v["woman"]) - unit(v["man"])
    assert best[0][1] == pytest.approx(float(unit(q) @ unit(v["queen"])), abs=1e-6)
    assert {w for w, _ in best}.isdisjoint({"king", "woman", "man"})
    assert [s for _, s in best] == sorted((s for _, s in best), reverse=True)
    assert v.analogy("king - man + woman", topn=1)[0][0] == "queen"
    assert v.analogy("king-man+woman", topn=1)[0][0] == "queen"
    assert v.analogy("-man +king +woman", topn=1, method="mul")[0][0] == "queen"


def test_most_similar_exact_scores():
    v = planted()
    res = dict(v.most_similar("apple", topn=10))
    assert res["pear"] == pytest.approx(1 / np.sqrt(1.04), abs=1e-6)
    assert res["zero"] == 0.0
    assert res["king"] == 0.0
    assert "apple" not in res and len(res) == 6
    # a vector query: nothing excluded
    res = v.most_similar(positive=[v["apple"]], topn=2)
    assert res[0] == ("apple", pytest.approx(1.0))
    assert v.most_similar("apple", topn=0) == []


def test_restrict_vocab_limits_candidates():
    v = planted()
    res = v.most_similar("king", topn=10, restrict_vocab=3)
    assert [w for w, _ in res] == ["man", "woman"]
    sims = v.most_similar("king", topn=None)
    assert sims.shape == (7,)


def test_cosmul_scores_match_the_formula():
    v = planted()
    res = dict(v.most_similar_cosmul(positive=["king", "woman"], negative=["man"], topn=10))
    u = v.unit_matrix
    cos = lambda a, b: float(u[v.index[a]] @ u[v.index[b]])  # noqa: E731
    for w in ("queen", "apple", "zero"):
        expected = ((1 + cos(w, "king")) / 2 * (1 + cos(w, "woman")) / 2
                    / ((1 + cos(w, "man")) / 2 + 1e-6))
        assert res[w] == pytest.approx(expected, rel=1e-5)
    assert max(res, key=res.get) == "queen"


def test_similarity_and_doesnt_match():
    v = planted()
    assert v.similarity("king", "king") == pytest.approx(1.0)
    assert v.similarity("apple", "king") == 0.0
    assert v.similarity("man", "woman") == pytest.approx(0.5)
    assert v.doesnt_match(["king", "queen", "man", "apple"]) == "apple"
    with pytest.raises(UnknownWordError):
        v.doesnt_match(["king", "nope"])


def test_most_similar_batch_equals_single_queries():
    rng = np.random.default_rng(3)
    v = Vectors([f"w{i}" for i in range(300)], rng.standard_normal((300, 16)))
    queries = ["w0", "w7", "w299", "w7"]
    batch = v.most_similar_batch(queries, topn=5)
    for q, got in zip(queries, batch):
        single = v.most_similar(q, topn=5)
        assert [w for w, _ in got] == [w for w, _ in single]
        np.testing.assert_allclose([s for _, s in got], [s for _, s in single], rtol=1e-5)
        assert q not in [w for w, _ in got]
    by_vector = v.most_similar_batch(v[["w0", "w1"]], topn=1)
    assert by_vector[0][0][0] == "w0" and by_vector[1][0][0] == "w1"


def test_top_k_matches_full_sort():
    rng = np.random.default_rng(0)
    scores = rng.standard_normal(1000)
    scores[10] = scores[20]                        # a tie: lower index first
    for k in (0, 1, 5, 999, 1000, 2000):
        expected = sorted(range(1000), key=lambda i: (-scores[i], i))[:k]
        assert top_k(scores, k).tolist() == expected


@pytest.mark.parametrize("expr,pos,neg", [
    ("king - man + woman", ["king", "woman"], ["man"]),
    ("king-man+woman", ["king", "woman"], ["man"]),
    ("  king -man +woman ", ["king", "woman"], ["man"]),
    ("a+b+c-d-e", ["a", "b", "c"], ["d", "e"]),
    ("paris", ["paris"], []),
    ("x-ray + bone", ["x-ray", "bone"], []),        # in the vocabulary as a whole
    ("-man + king", ["king"], ["man"]),
])
def test_parse_analogy(expr, pos, neg):
    assert parse_analogy(expr, {"x-ray"}) == (pos, neg)


@pytest.mark.parametrize("expr", ["", "   ", "king -", "king - - man", "-man", "+"])
def test_parse_analogy_errors(expr):
    with pytest.raises(ConfigError):
        parse_analogy(expr)


def test_bad_construction():
    with pytest.raises(FormatError, match="duplicate"):
        Vectors(["a", "a"], np.zeros((2, 2)))
    with pytest.raises(FormatError, match="NaN"):
        Vectors(["a", "b"], np.array([[0, np.nan], [1, 1]]))
    with pytest.raises(FormatError, match="rows"):
        Vectors(["a"], np.zeros((2, 2)))
    v = Vectors(["a", "b"], np.array([[1, 2], [3, 4]], dtype=np.float64))
    assert v.matrix.dtype == np.float32


def test_pca_2d_recovers_a_plane():
    rng = np.random.default_rng(0)
    plane = rng.standard_normal((50, 2)) * [5, 2]
    basis = np.linalg.qr(rng.standard_normal((10, 2)))[0]
    xy = pca_2d(plane @ basis.T + 3)
    # distances are preserved by a projection onto the plane the points lie in
    d0 = np.linalg.norm(plane[:, None] - plane[None], axis=2)
    d1 = np.linalg.norm(xy[:, None] - xy[None], axis=2)
    np.testing.assert_allclose(d0, d1, atol=1e-9)
