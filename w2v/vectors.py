"""The query side of word vectors: lookup, nearest neighbours, analogies.

:class:`Vectors` wraps a vocabulary and a float32 matrix (possibly a read-only
memory map). Nothing here mutates the matrix: the unit-normalised copy used for
cosine similarities is computed once, on first use, and cached.

Every similarity query is one matrix product over the (possibly restricted)
vocabulary; top-k uses :func:`numpy.argpartition` and sorts only the k winners.
"""
from __future__ import annotations

import os
import re
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from .config import int_argument
from .errors import ArgumentError, ConfigError, FormatError, UnknownWordError, described
from .finite import first_non_finite_row

__all__ = ["Vectors", "parse_analogy", "top_k", "pca_2d", "plot_neighbours"]

Query = Union[str, np.ndarray]
#: 3CosMul's epsilon (Levy & Goldberg 2014), as in gensim's most_similar_cosmul.
COSMUL_EPS = 1e-6
_BATCH_CELLS = 1 << 24        # similarity-matrix cells per batch (64 MB of float32)


class Vectors:
    """Word vectors: ``vecs["king"]``, ``"king" in vecs``, ``len(vecs)``, similarity queries.

    Parameters
    ----------
    words : sequence of str      one per row of ``matrix``, unique
    matrix : (V, D) array         converted to float32 if it is not (memory maps stay maps)
    counts : (V,) ints, optional  corpus counts, kept for model files and ``info``
    ngrams : :class:`w2v.subwords.NgramVectors`, optional   a subword model's n-gram rows:
        a word outside the vocabulary then gets the mean of its n-gram rows in every
        query (``vecs["unseen"]``, similarity, most_similar, analogies);
        :meth:`built_from_ngrams` tells such words apart. ``in`` and ``len`` stay the
        vocabulary's.
    """

    def __init__(self, words: Sequence[str], matrix, counts=None, *, ngrams=None,
                 _validate: bool = True):
        matrix = np.asarray(matrix) if not isinstance(matrix, np.ndarray) else matrix
        if matrix.dtype.kind not in "biuf":
            raise ArgumentError(f"Vectors: the matrix must hold real numbers, got dtype "
                                f"{matrix.dtype}")
        if matrix.dtype != np.float32:
            matrix = matrix.astype(np.float32)
        if matrix.ndim != 2 or (matrix.shape[1] == 0 and matrix.shape[0] > 0):
            raise FormatError(f"Vectors: the matrix must be 2-D with at least one column, got "
                              f"shape {matrix.shape}")
        if _validate:
            words = _words(words, "Vectors: words")
        self.words: List[str] = list(words)
        if len(self.words) != matrix.shape[0]:
            raise FormatError(f"Vectors: {len(self.words)} words but {matrix.shape[0]} matrix rows")
        self.index: Dict[str, int] = {w: i for i, w in enumerate(self.words)}
        self.matrix = matrix
        self.counts = None if counts is None else _counts(counts)
        if self.counts is not None and self.counts.shape != (len(self.words),):
            raise FormatError(f"Vectors: {len(self.words)} words but {self.counts.shape} counts")
        if _validate:
            if len(self.index) != len(self.words):
                dup = next(w for i, w in enumerate(self.words) if self.index[w] != i)
                raise FormatError(f"Vectors: duplicate word {dup!r}")
            row = first_non_finite_row(matrix)
            if row is not None:
                raise FormatError(f"Vectors: the vector of {self.words[row]!r} (row {row}) has "
                                  f"a NaN or infinite value")
        self._unit: Optional[np.ndarray] = None
        if ngrams is not None and ngrams.matrix.shape[1] != matrix.shape[1]:
            raise FormatError(f"Vectors: the n-gram rows have {ngrams.matrix.shape[1]} columns, "
                              f"the word vectors {matrix.shape[1]}")
        self.ngrams = ngrams

    # -- container protocol -----------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word) -> bool:
        return isinstance(word, str) and word in self.index

    def __iter__(self):
        return iter(self.words)

    def __getitem__(self, word):
        """The float32 vector of ``word`` (a copy), or a (n, D) array for a list of words;
        with n-grams, words outside the vocabulary are built from them."""
        if isinstance(word, str):
            return self._vectors([word])[0]
        return self._vectors(_words(word, "vectors[...]", self.matrix))

    def get(self, word: str, default=None):
        if not isinstance(word, str):
            return default
        i = self.index.get(word)
        if i is not None:
            return np.array(self.matrix[i])
        v = self._ngram_vector(word)
        return default if v is None else v

    def built_from_ngrams(self, word: str) -> bool:
        """True if ``word`` is outside the vocabulary and its vector comes from its
        n-grams (a subword model); False for a vocabulary word or one with no vector."""
        return (isinstance(word, str) and word not in self.index
                and self._ngram_vector(word) is not None)

    def _ngram_vector(self, word: str) -> Optional[np.ndarray]:
        return None if self.ngrams is None else self.ngrams.vector(word)

    def _vectors(self, words: List[str]) -> np.ndarray:
        """The (n, D) float32 vectors of ``words``; UnknownWordError naming every word that
        has none."""
        out = np.empty((len(words), self.dim), dtype=np.float32)
        unknown = []
        for k, w in enumerate(words):
            i = self.index.get(w)
            v = self.matrix[i] if i is not None else self._ngram_vector(w)
            if v is None:
                unknown.append(w)
            else:
                out[k] = v
        if unknown:
            raise UnknownWordError(list(dict.fromkeys(unknown)))
        return out

    def __repr__(self) -> str:
        return f"<w2v.Vectors {len(self):,} words x {self.dim}>"

    @property
    def dim(self) -> int:
        return self.matrix.shape[1]

    @property
    def vectors(self) -> np.ndarray:
        """Alias of :attr:`matrix`."""
        return self.matrix

    @property
    def unit_matrix(self) -> np.ndarray:
        """Rows scaled to unit length (zero rows stay zero), computed once and cached."""
        if self._unit is None:
            unit = np.empty(self.matrix.shape, dtype=np.float32)
            step = max(1, _BATCH_CELLS // max(1, self.dim))
            for s in range(0, len(self), step):
                block = np.asarray(self.matrix[s:s + step], dtype=np.float32)
                norms = np.sqrt(np.einsum("ij,ij->i", block, block, dtype=np.float64))
                norms[norms == 0] = 1.0
                np.divide(block, norms[:, None], out=unit[s:s + step], casting="unsafe")
            unit.flags.writeable = False
            self._unit = unit
        return self._unit

    def _indices(self, words: Iterable[str]) -> List[int]:
        """Row of each word; UnknownWordError naming every unknown one."""
        words = list(words)
        missing = [w for w in words if w not in self.index]
        if missing:
            raise UnknownWordError(list(dict.fromkeys(missing)))
        return [self.index[w] for w in words]

    def _restrict(self, restrict_vocab: Optional[int]) -> int:
        if restrict_vocab is None:
            return len(self)
        return min(int_argument(restrict_vocab, "restrict_vocab"), len(self))

    def _unit_query(self, items, what: str) -> Tuple[List[np.ndarray], List[int]]:
        """Unit vectors of words or arrays, and the rows of the words among them."""
        vecs, rows, unknown = [], [], []
        for item in items:
            if isinstance(item, str) and item in self.index:
                i = self.index[item]
                rows.append(i)
                vecs.append(self.unit_matrix[i])
            else:
                v = self._query_vector(item, what)
                if v is None:
                    unknown.append(item)
                    continue
                vecs.append(_unit(v))
        if unknown:
            raise UnknownWordError(unknown)
        return vecs, rows

    def _query_vector(self, item, what: str) -> Optional[np.ndarray]:
        """A word outside the vocabulary built from its n-grams (None if it has none), or
        a given vector, checked to be real, finite and of the vectors' dimension."""
        if isinstance(item, str):
            return self._ngram_vector(item)
        v = _as_vector(item, what)
        if v.shape != (self.dim,):
            raise ConfigError(f"{what}: a query vector must have shape ({self.dim},), "
                              f"got {v.shape}")
        return v

    def _unit_rows(self, words: List[str]) -> Tuple[np.ndarray, List[Optional[int]]]:
        """Unit vectors of ``words`` (n, D) and each one's row (None for a word built from
        its n-grams)."""
        rows = [self.index.get(w) for w in words]
        if all(r is not None for r in rows):
            return self.unit_matrix[rows], rows
        vecs = self._vectors(words)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return vecs / np.where(norms > 0, norms, 1), rows

    # -- similarity queries -----------------------------------------------------------------
    def similarity(self, a: Query, b: Query) -> float:
        """Cosine similarity of two words (or vectors)."""
        (u, v), _ = self._unit_query([a, b], "similarity")
        return float(np.dot(u, v))

    def most_similar(self, positive=None, negative=None, topn: Optional[int] = 10,
                     restrict_vocab: Optional[int] = None) -> List[Tuple[str, float]]:
        """Words nearest to the mean of the unit ``positive`` vectors minus the ``negative`` ones
        (3CosAdd), by cosine similarity; query words are excluded.

        ``positive``/``negative``: a word, a vector, or a list of them. ``restrict_vocab=N``
        searches only the first N words. ``topn=None`` returns the similarity of every word
        (an array, query words included)."""
        positive, negative = _as_list(positive, "positive"), _as_list(negative, "negative")
        if not positive and not negative:
            raise ConfigError("most_similar: give at least one positive or negative word")
        (pos, pos_rows), (neg, neg_rows) = self._both(positive, negative, "most_similar")
        n = self._restrict(restrict_vocab)
        query = np.sum(pos, axis=0) if pos else np.zeros(self.dim, np.float32)
        if neg:
            query = query - np.sum(neg, axis=0)
        query = _unit(query).astype(np.float32)
        scores = self.unit_matrix[:n] @ query
        if topn is None:
            return scores
        return self._best(scores, pos_rows + neg_rows, topn)

    def most_similar_cosmul(self, positive=None, negative=None, topn: Optional[int] = 10,
                            restrict_vocab: Optional[int] = None) -> List[Tuple[str, float]]:
        """3CosMul (Levy & Goldberg 2014): the words w maximising
        prod_p (1+cos(w,p))/2 / (prod_n (1+cos(w,n))/2 + eps); query words are excluded."""
        positive, negative = _as_list(positive, "positive"), _as_list(negative, "negative")
        if not positive:
            raise ConfigError("most_similar_cosmul: give at least one positive word")
        (pos, pos_rows), (neg, neg_rows) = self._both(positive, negative, "most_similar_cosmul")
        n = self._restrict(restrict_vocab)
        unit = self.unit_matrix[:n]
        scores = np.prod((1 + unit @ np.array(pos).T) / 2, axis=1)
        if neg:
            scores = scores / (np.prod((1 + unit @ np.array(neg).T) / 2, axis=1) + COSMUL_EPS)
        else:
            scores = scores / (1 + COSMUL_EPS)
        if topn is None:
            return scores
        return self._best(scores, pos_rows + neg_rows, topn)

    def _both(self, positive, negative, what):
        try:
            pos = self._unit_query(positive, what)
        except UnknownWordError as e:
            missing = list(e.words)
            missing += [w for w in negative if isinstance(w, str) and w not in self.index
                        and self._ngram_vector(w) is None and w not in missing]
            raise UnknownWordError(missing) from None
        return pos, self._unit_query(negative, what)

    def _best(self, scores: np.ndarray, exclude: List[int], topn: int):
        topn = int_argument(topn, "topn", 0)
        scores = np.array(scores, dtype=np.float64)
        exclude = [i for i in set(exclude) if i < len(scores)]
        scores[exclude] = -np.inf
        k = min(int(topn), len(scores) - len(exclude))
        return [(self.words[i], float(scores[i])) for i in top_k(scores, k)]

    def most_similar_batch(self, queries, topn: int = 10, restrict_vocab: Optional[int] = None
                           ) -> List[List[Tuple[str, float]]]:
        """Nearest neighbours of many words (or rows of a 2-D array) via one matrix product
        per batch; each query word is excluded from its own results."""
        if isinstance(queries, np.ndarray) and queries.ndim == 2:
            q = _as_vector(queries, "most_similar_batch")
            if q.shape[1] != self.dim:
                raise ConfigError(f"most_similar_batch: query vectors must have {self.dim} "
                                  f"columns, got {q.shape[1]}")
            norms = np.linalg.norm(q, axis=1, keepdims=True)
            q = q / np.where(norms > 0, norms, 1)
            rows = [None] * len(q)
        else:
            words = [queries] if isinstance(queries, str) else _words(queries, "queries")
            q, rows = self._unit_rows(words)
        topn = int_argument(topn, "topn", 0)
        n = self._restrict(restrict_vocab)
        unit = self.unit_matrix[:n]
        results = []
        step = max(1, _BATCH_CELLS // max(1, n))
        for s in range(0, len(q), step):
            scores = q[s:s + step] @ unit.T
            for j, row in enumerate(rows[s:s + step]):
                k = min(topn, n)
                if row is not None and row < n:
                    scores[j, row] = -np.inf
                    k = min(topn, n - 1)
                results.append([(self.words[i], float(scores[j, i]))
                                for i in top_k(scores[j], k)])
        return results

    def doesnt_match(self, words: Sequence[str]) -> str:
        """The word furthest (by cosine) from the mean of the unit vectors of ``words``."""
        words = _words(words, "doesnt_match")
        if not words:
            raise ConfigError("doesnt_match: give at least one word")
        vecs, _ = self._unit_rows(words)
        mean = _unit(vecs.mean(axis=0))
        return words[int(np.argmin(vecs @ mean))]

    # -- gensim's KeyedVectors queries (same names, arguments and results) -------------------
    def _vector(self, item, what: str) -> np.ndarray:
        """A word's vector (n-grams included) or a given vector, float32 (D,)."""
        if isinstance(item, str):
            return self._vectors([item])[0]
        return self._query_vector(item, what)

    def similar_by_vector(self, vector, topn: Optional[int] = 10,
                          restrict_vocab: Optional[int] = None) -> List[Tuple[str, float]]:
        """The words nearest to ``vector`` (cosine); :meth:`most_similar` of one vector."""
        return self.most_similar(positive=[self._vector(vector, "similar_by_vector")],
                                 topn=topn, restrict_vocab=restrict_vocab)

    def similar_by_word(self, word: str, topn: Optional[int] = 10,
                        restrict_vocab: Optional[int] = None) -> List[Tuple[str, float]]:
        """The words nearest to ``word`` (itself excluded)."""
        return self.most_similar(positive=[word], topn=topn, restrict_vocab=restrict_vocab)

    def n_similarity(self, words1: Sequence[str], words2: Sequence[str]) -> float:
        """Cosine similarity of the mean vectors of two sets of words (gensim: the raw
        vectors averaged, then normalised)."""
        words1, words2 = _words(words1, "n_similarity"), _words(words2, "n_similarity")
        if not words1 or not words2:
            raise ConfigError("n_similarity: both word lists must be non-empty")
        a, b = self[words1].mean(axis=0), self[words2].mean(axis=0)
        return float(_unit(a) @ _unit(b))

    def distances(self, word_or_vector, other_words: Sequence[str] = ()) -> np.ndarray:
        """Cosine distances (1 - cosine similarity) from a word or vector to ``other_words``,
        or to every word of the vocabulary in order when none are given."""
        v = _unit(self._vector(word_or_vector, "distances").astype(np.float64))
        if len(other_words) == 0:
            sims = np.asarray(self.unit_matrix @ v.astype(np.float32), dtype=np.float64)
        else:
            others = self[_words(other_words, "distances")].astype(np.float64)
            norms = np.linalg.norm(others, axis=1)
            sims = (others @ v) / np.where(norms > 0, norms, 1)
        return (1 - sims).astype(np.float32)

    def closer_than(self, word1: str, word2: str) -> List[str]:
        """The vocabulary words closer to ``word1`` than ``word2`` is (``word1`` excluded)."""
        d = self.distances(word1)
        limit = d[self._indices([word2])[0]] if word2 in self.index else \
            self.distances(word1, [word2])[0]
        own = self.index.get(word1)
        return [self.words[i] for i in np.flatnonzero(d < limit) if i != own]

    def rank(self, word1: str, word2: str) -> int:
        """``word2``'s rank among ``word1``'s neighbours (1 = nearest)."""
        return len(self.closer_than(word1, word2)) + 1

    def most_similar_to_given(self, word: str, candidates: Sequence[str]) -> str:
        """The one of ``candidates`` most similar to ``word``."""
        candidates = _words(candidates, "most_similar_to_given")
        if not candidates:
            raise ConfigError("most_similar_to_given: give at least one candidate")
        return candidates[int(np.argmin(self.distances(word, candidates)))]

    def get_mean_vector(self, keys, weights=None, pre_normalize: bool = True,
                        post_normalize: bool = False, ignore_missing: bool = True) -> np.ndarray:
        """The weighted mean of words (unit vectors if ``pre_normalize``) and given vectors,
        divided by the sum of |weights|; words without a vector are skipped (or, with
        ``ignore_missing=False``, an UnknownWordError)."""
        keys = _as_list(keys, "get_mean_vector")
        if not keys:
            raise ConfigError("get_mean_vector: give at least one word or vector")
        w = np.ones(len(keys)) if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape != (len(keys),):
            raise ConfigError(f"get_mean_vector: {len(keys)} keys but weights of shape {w.shape}")
        mean = np.zeros(self.dim, dtype=np.float32)
        total = 0.0
        for key, weight in zip(keys, w):
            if isinstance(key, str):
                v = self.get(key)
                if v is None:
                    if not ignore_missing:
                        raise UnknownWordError([key])
                    continue
                if pre_normalize:
                    v = _unit(v)
            else:
                v = self._vector(key, "get_mean_vector")
            mean += np.float32(weight) * v
            total += abs(weight)
        if total > 0:
            mean = mean / np.float32(total)
        return _unit(mean).astype(np.float32) if post_normalize else mean

    def relative_cosine_similarity(self, word_a: str, word_b: str, topn: int = 10) -> float:
        """Leeuwenberg et al.'s relative cosine similarity: sim(a, b) over the summed
        similarities of a's ``topn`` nearest words."""
        top = self.similar_by_word(word_a, topn=topn)
        if not top:
            raise ConfigError("relative_cosine_similarity: the vocabulary has no other word")
        return float(self.similarity(word_a, word_b)) / sum(sim for _, sim in top)

    def to_gensim(self):
        """A gensim ``KeyedVectors`` holding these words, vectors (and counts); needs gensim."""
        try:
            from gensim.models import KeyedVectors
        except ImportError:
            raise ConfigError("to_gensim needs gensim: pip install gensim") from None
        kv = KeyedVectors(self.dim, count=0, dtype=np.float32)
        kv.add_vectors(self.words, np.asarray(self.matrix, dtype=np.float32))
        if self.counts is not None:
            kv.expandos["count"] = np.asarray(self.counts, dtype=np.int64).copy()
        return kv

    @classmethod
    def from_gensim(cls, kv) -> "Vectors":
        """Vectors from a gensim ``KeyedVectors`` (a model's ``.wv``); counts if it has them."""
        words, matrix = getattr(kv, "index_to_key", None), getattr(kv, "vectors", None)
        if words is None or matrix is None:
            raise ArgumentError(f"from_gensim: expected gensim KeyedVectors, got {described(kv)}")
        counts = getattr(kv, "expandos", {}).get("count")
        if counts is not None and not np.asarray(counts).any():
            counts = None
        return cls(list(words), np.asarray(matrix, dtype=np.float32), counts=counts)

    def analogy(self, expression: str, topn: int = 10, method: str = "add",
                restrict_vocab: Optional[int] = None) -> List[Tuple[str, float]]:
        """Solve ``"king - man + woman"`` (any number of terms, spaces optional) with
        ``method`` 'add' (3CosAdd, :meth:`most_similar`) or 'mul' (3CosMul)."""
        positive, negative = parse_analogy(expression, self.index)
        if method == "add":
            return self.most_similar(positive, negative, topn=topn, restrict_vocab=restrict_vocab)
        if method == "mul":
            return self.most_similar_cosmul(positive, negative, topn=topn,
                                            restrict_vocab=restrict_vocab)
        raise ConfigError(f"method must be 'add' or 'mul', got {method!r}")

    # -- output -----------------------------------------------------------------------------
    def save(self, path, format: Optional[str] = None) -> None:
        """Write to ``path``: 'bin', 'txt' or 'model', by default from the extension."""
        from . import io             # w2v.io builds this module's objects: it imports it
        io.save(path, self, format=format)


def _as_list(x, what: str) -> list:
    """A query side (``positive``/``negative``) as a list of words and vectors: one word,
    one vector, a 2-D array of vectors, or a list of words and vectors."""
    if x is None:
        return []
    if isinstance(x, str) or (isinstance(x, np.ndarray) and x.ndim == 1):
        return [x]
    if isinstance(x, (list, tuple, np.ndarray)):
        return list(x)
    raise ArgumentError(f"{what}: expected a word (str), a vector or a list of them, "
                        f"got {described(x)}")


def _words(x, what: str, matrix=None) -> List[str]:
    """A list of words (str); :class:`ArgumentError` for anything else, with a hint to
    index ``.matrix`` when it looks like a row number."""
    items = None if isinstance(x, (str, bytes)) or not isinstance(x, Iterable) else list(x)
    if items is None or not all(isinstance(w, str) for w in items):
        hint = (" (use .matrix[i] for row i)"
                if matrix is not None and isinstance(x, (int, np.integer, slice)) else "")
        raise ArgumentError(f"{what}: expected a word (str) or a list of words, got "
                            f"{described(x)}{hint}")
    return items


def _counts(counts) -> np.ndarray:
    try:
        result = np.asarray(counts, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        raise ArgumentError(f"Vectors: counts must be integers below 2**63, got "
                            f"{described(counts)}") from None
    if result.size and result.min() < 0:
        raise ArgumentError("Vectors: counts must not be negative")
    return result


def _unit(v: np.ndarray) -> np.ndarray:
    """``v`` scaled to length 1 (a zero vector as it is)."""
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


def _as_vector(item, what: str) -> np.ndarray:
    """A query vector (or rows of them) as float32; real, finite numbers only."""
    if isinstance(item, (np.ndarray, list, tuple)):
        arr = np.asarray(item)
        if arr.dtype.kind in "biuf":
            vector = arr.astype(np.float32)
            if not np.isfinite(vector).all():
                raise ConfigError(f"{what}: a query vector has a NaN or infinite value "
                                  f"(or one past float32's range)")
            return vector
    raise ArgumentError(f"{what}: expected a word (str) or a vector of real numbers, got "
                        f"{described(item)}")


def as_vectors(obj, what: str = "vectors") -> "Vectors":
    """``obj`` as :class:`Vectors`: itself, a model's ``.wv``, or a vectors file's path
    (loaded); :class:`ArgumentError` for anything else."""
    if isinstance(obj, Vectors):
        return obj
    if isinstance(obj, (str, bytes, os.PathLike)):
        from .io import load         # w2v.io builds Vectors, so it imports this module
        return load(obj)
    if isinstance(getattr(obj, "wv", None), Vectors):
        return obj.wv
    raise ArgumentError(f"{what}: expected w2v Vectors, a model or a vectors file's path, got "
                        f"{described(obj)}")


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest ``scores``, best first (ties: lower index first);
    argpartition, then a sort of the k winners only."""
    n = len(scores)
    k = max(0, min(int(k), n))
    if k == 0:
        return np.empty(0, dtype=np.int64)
    idx = np.arange(n) if k == n else np.argpartition(-scores, k - 1)[:k]
    return idx[np.lexsort((idx, -scores[idx]))]


def parse_analogy(expression: str, vocabulary=()) -> Tuple[List[str], List[str]]:
    """``"king - man + woman"`` -> ``(["king", "woman"], ["man"])``.

    Spaces are optional (``"king-man+woman"``). A whitespace-separated token that is in
    ``vocabulary`` as a whole (e.g. ``"x-ray"``) is kept as one word; write spaces around
    the operators to use other hyphenated words."""
    if not isinstance(expression, str):
        raise ArgumentError(f"analogy: expected an expression such as 'king - man + woman', "
                            f"got {described(expression)}")
    if not expression.strip():
        raise ConfigError("analogy: empty expression; expected e.g. 'king - man + woman'")
    positive: List[str] = []
    negative: List[str] = []
    sign = "+"
    pending = False        # an operator waits for its word
    for token in expression.split():
        while token:
            if token[0] in "+-":
                if pending:
                    raise ConfigError(f"analogy: two operators in a row in {expression!r}")
                sign, token, pending = token[0], token[1:], True
                continue
            if token in vocabulary:
                word, token = token, ""
            else:
                m = re.match(r"[^+-]+", token)
                word, token = m.group(0), token[m.end():]
            (positive if sign == "+" else negative).append(word)
            sign, pending = "+", False
            if token and token[0] not in "+-":   # pragma: no cover - regex stops at an operator
                raise ConfigError(f"analogy: cannot parse {expression!r}")
    if pending:
        raise ConfigError(f"analogy: {expression!r} ends with an operator")
    if not positive:
        raise ConfigError(f"analogy: {expression!r} has no positive term")
    return positive, negative


# --------------------------------------------------------------------------------------
# 2-D projection and plot
# --------------------------------------------------------------------------------------
def pca_2d(matrix: np.ndarray) -> np.ndarray:
    """Project rows onto their first two principal components (numpy SVD)."""
    x = np.asarray(matrix, dtype=np.float64)
    x = x - x.mean(axis=0)
    if len(x) < 2:
        return np.zeros((len(x), 2))
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    out = x @ vt[:2].T
    if out.shape[1] < 2:
        out = np.hstack([out, np.zeros((len(out), 2 - out.shape[1]))])
    return out


def plot_neighbours(vectors: Vectors, words: Sequence[str], path, topn: int = 5,
                    restrict_vocab: Optional[int] = None) -> List[str]:
    """Write a PNG of ``words`` and their ``topn`` nearest neighbours projected to 2-D (PCA),
    each point labelled; returns the words plotted. Needs matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        from .errors import W2VError
        raise W2VError("plotting needs matplotlib: pip install matplotlib "
                       "(or pip install 'w2v[plot]')") from None
    words = list(dict.fromkeys(words))
    if not words:
        raise ConfigError("plot: give at least one word")
    vectors._indices(words)
    groups = vectors.most_similar_batch(words, topn=topn, restrict_vocab=restrict_vocab) \
        if topn > 0 else [[] for _ in words]
    shown = list(words)
    owner = {w: i for i, w in enumerate(words)}
    for i, group in enumerate(groups):
        for w, _ in group:
            if w not in owner:
                owner[w] = i
                shown.append(w)
    xy = pca_2d(vectors.unit_matrix[vectors._indices(shown)])
    colours = plt.get_cmap("tab10")
    fig, ax = plt.subplots(figsize=(9, 7), dpi=110)
    for j, w in enumerate(shown):
        query = w in words
        ax.scatter(xy[j, 0], xy[j, 1], color=colours(owner[w] % 10), s=60 if query else 20,
                   marker="o" if query else ".")
        ax.annotate(w, (xy[j, 0], xy[j, 1]), xytext=(3, 3), textcoords="offset points",
                    fontsize=10 if query else 8, fontweight="bold" if query else "normal")
    ax.set_title(f"{len(words)} words and their {topn} nearest neighbours (PCA)")
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    from .outputs import atomic_write
    with atomic_write(path, "wb") as f:
        fig.savefig(f, format="png")
    plt.close(fig)
    return shown
