"""gensim's KeyedVectors queries on w2v.Vectors: the same results as gensim on the same
vectors, and the round trip to and from gensim."""
import numpy as np
import pytest

from w2v.errors import ConfigError, UnknownWordError
from w2v.vectors import Vectors

gensim_models = pytest.importorskip("gensim.models")


@pytest.fixture(scope="module")
def pair():
    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(200)]
    matrix = rng.standard_normal((200, 16)).astype(np.float32)
    vecs = Vectors(words, matrix, counts=np.arange(200, 0, -1))
    kv = gensim_models.KeyedVectors(16, count=0)
    kv.add_vectors(words, matrix)
    return vecs, kv, matrix


def test_distances_match_gensim(pair):
    vecs, kv, m = pair
    np.testing.assert_allclose(vecs.distances("w3"), kv.distances("w3"), atol=1e-6)
    np.testing.assert_allclose(vecs.distances(m[5]), kv.distances(m[5]), atol=1e-6)
    others = ["w1", "w9", "w150"]
    np.testing.assert_allclose(vecs.distances("w3", others), kv.distances("w3", others), atol=1e-6)


@pytest.mark.parametrize("a,b", [("w0", "w1"), ("w5", "w199"), ("w42", "w17")])
def test_closer_than_and_rank_match_gensim(pair, a, b):
    vecs, kv, _ = pair
    assert vecs.closer_than(a, b) == kv.closer_than(a, b)
    assert vecs.rank(a, b) == kv.rank(a, b)


def test_similarities_match_gensim(pair):
    vecs, kv, m = pair
    assert vecs.n_similarity(["w1", "w2", "w8"], ["w3", "w4"]) == pytest.approx(
        kv.n_similarity(["w1", "w2", "w8"], ["w3", "w4"]), abs=1e-6)
    assert vecs.most_similar_to_given("w10", ["w1", "w2", "w3", "w4"]) == \
        kv.most_similar_to_given("w10", ["w1", "w2", "w3", "w4"])
    assert vecs.relative_cosine_similarity("w1", "w2", topn=7) == pytest.approx(
        kv.relative_cosine_similarity("w1", "w2", topn=7), rel=1e-5)
    ours, theirs = vecs.similar_by_vector(m[11], topn=5), kv.similar_by_vector(m[11], topn=5)
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-6)
    assert [w for w, _ in vecs.similar_by_word("w11", topn=5)] == \
        [w for w, _ in kv.similar_by_word("w11", topn=5)]


@pytest.mark.parametrize("options", [{}, {"pre_normalize": False}, {"post_normalize": True},
                                     {"weights": [2.0, -1.0, 0.5, 1.0]}])
def test_mean_vector_matches_gensim(pair, options):
    vecs, kv, m = pair
    keys = ["w1", "missing", "w7", m[9]]
    np.testing.assert_allclose(vecs.get_mean_vector(keys, **options),
                               kv.get_mean_vector(keys, **options), atol=1e-6)
    with pytest.raises(UnknownWordError):
        vecs.get_mean_vector(["w1", "missing"], ignore_missing=False)
    with pytest.raises(ConfigError):
        vecs.get_mean_vector(["w1", "w2"], weights=[1.0])


def test_round_trip_through_gensim(pair):
    vecs, kv, m = pair
    kv2 = vecs.to_gensim()
    assert kv2.index_to_key == vecs.words and kv2.get_vecattr("w0", "count") == 200
    np.testing.assert_array_equal(kv2.vectors, m)
    back = Vectors.from_gensim(kv2)
    assert back.words == vecs.words and back.counts.tolist() == vecs.counts.tolist()
    np.testing.assert_array_equal(back.matrix, m)
    assert Vectors.from_gensim(kv).counts is None          # gensim vectors without counts


def test_empty_inputs_are_refused(pair):
    vecs = pair[0]
    with pytest.raises(ConfigError):
        vecs.n_similarity([], ["w1"])
    with pytest.raises(ConfigError):
        vecs.most_similar_to_given("w1", [])
