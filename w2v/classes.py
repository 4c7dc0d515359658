"""Word classes: k-means clustering of word vectors (the C tool's ``-classes``).

Spherical k-means, as word2vec.c does it: vectors and centres have unit length,
each word goes to the centre of highest cosine similarity, and each centre is
the normalised mean of its words. Unlike word2vec.c (round-robin start, a fixed
10 iterations) the centres start from greedy k-means++ (the first a uniformly
drawn word; each next the best, by the total squared distance it leaves, of
``2 + ln k`` words drawn with probability proportional to their squared
distance ``2 - 2 cos`` from the nearest centre so far; as scikit-learn does)
with a seeded generator, and the
loop stops early once no word changes class. A centre left without words is
moved to the word farthest from its own centre.

Class ids are renumbered by first appearance in vocabulary order (the most
frequent word is in class 0), so the output depends only on the vectors, k and
the seed. The file has one ``word class`` line per word, sorted by class id and,
within a class, in vocabulary order (word2vec.c writes vocabulary order; its
demo script then sorts by class).
"""
from __future__ import annotations

import re
from typing import Dict, Sequence

import numpy as np
import scipy.sparse

from .errors import ArgumentError, ConfigError, FormatError, shown
from .outputs import as_path
from .vectors import as_vectors

__all__ = ["classes", "kmeans", "write_classes", "read_classes"]

_BLOCK_ROWS = 4096


def classes(vectors, k: int, *, seed: int = 1, iterations: int = 20) -> np.ndarray:
    """Class id (int32) of each word of ``vectors`` (a :class:`w2v.vectors.Vectors`,
    a trained model or a vectors file), aligned with ``vectors.words``."""
    vectors = as_vectors(vectors)
    return kmeans(vectors.unit_matrix, k, seed=seed, iterations=iterations)


def kmeans(unit: np.ndarray, k: int, *, seed: int = 1, iterations: int = 20) -> np.ndarray:
    """Spherical k-means of the rows of ``unit`` (unit length, or zero) into ``k``
    classes; returns each row's class id (renumbered by first appearance)."""
    n = len(unit)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        raise ConfigError(f"-k: must be an integer between 1 and the number of words ({n:,}), "
                          f"got {k!r}")
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ConfigError(f"--iterations: must be an integer >= 1, got {iterations!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2 ** 63:
        raise ConfigError(f"--seed: must be an integer between 0 and 2**63-1, got {seed!r}")
    unit = np.asarray(unit, dtype=np.float32)
    rng = np.random.Generator(np.random.PCG64(int(seed)))
    centres = _kmeans_plus_plus(unit, int(k), rng)
    labels = None
    for _ in range(iterations):
        new_labels, best = _assign(unit, centres)
        if labels is not None and np.array_equal(new_labels, labels):
            break
        labels = new_labels
        centres = _update(unit, labels, int(k), best)
    return _renumber(labels)


def _kmeans_plus_plus(unit: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Greedy k-means++: each new centre is the best of ``2 + ln k`` candidates drawn
    with probability proportional to the squared distance to the nearest centre."""
    n = len(unit)
    trials = 2 + int(np.log(k))
    chosen = [int(rng.integers(n))]
    distance = _squared_distances(unit, chosen)[0]
    for _ in range(1, k):
        total = distance.sum()
        if total > 0:
            candidates = np.searchsorted(np.cumsum(distance), rng.random(trials) * total)
            candidates = np.minimum(candidates, n - 1)
        else:                    # every row equals a centre already: any other row will do
            candidates = rng.choice(np.setdiff1d(np.arange(n), chosen), size=1)
        trial = np.minimum(distance, _squared_distances(unit, candidates))
        best = int(np.argmin(trial.sum(axis=1)))
        chosen.append(int(candidates[best]))
        distance = trial[best]
    return unit[chosen].copy()


def _squared_distances(unit: np.ndarray, rows) -> np.ndarray:
    """``2 - 2 cos`` from each of ``rows`` to every row (float64, clipped at 0)."""
    return np.maximum(2.0 - 2.0 * (unit[rows] @ unit.T).astype(np.float64), 0.0)


def _assign(unit: np.ndarray, centres: np.ndarray):
    """Each row's nearest centre (highest cosine) and that similarity."""
    labels = np.empty(len(unit), dtype=np.int32)
    best = np.empty(len(unit), dtype=np.float32)
    for s in range(0, len(unit), _BLOCK_ROWS):
        sims = unit[s:s + _BLOCK_ROWS] @ centres.T
        labels[s:s + _BLOCK_ROWS] = np.argmax(sims, axis=1)
        best[s:s + _BLOCK_ROWS] = sims[np.arange(len(sims)), labels[s:s + _BLOCK_ROWS]]
    return labels, best


def _update(unit: np.ndarray, labels: np.ndarray, k: int, best: np.ndarray) -> np.ndarray:
    """Normalised mean of each class; an empty class takes the worst-placed word."""
    n = len(unit)
    members = scipy.sparse.csr_matrix((np.ones(n, dtype=np.float64), (labels, np.arange(n))),
                                      shape=(k, n))
    sums = np.asarray(members @ unit.astype(np.float64))
    sizes = np.bincount(labels, minlength=k)
    empty = np.flatnonzero(sizes == 0)
    if len(empty):
        farthest = np.argsort(best, kind="stable")[:len(empty)]
        sums[empty] = unit[farthest]
    norms = np.linalg.norm(sums, axis=1)
    norms[norms == 0] = 1.0
    return (sums / norms[:, None]).astype(np.float32)


def _renumber(labels: np.ndarray) -> np.ndarray:
    """Renumber classes in order of their first row."""
    ids, first = np.unique(labels, return_index=True)
    rank = np.empty(int(ids.max()) + 1, dtype=np.int32)
    rank[ids[np.argsort(first)]] = np.arange(len(ids), dtype=np.int32)
    return rank[labels]


def write_classes(path, words: Sequence[str], labels: np.ndarray) -> None:
    """Write ``word class`` lines sorted by class, then vocabulary order (atomically)."""
    from .outputs import atomic_write
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != len(words) or labels.dtype.kind not in "iu":
        raise ArgumentError(f"write_classes: one integer class per word is needed "
                            f"({len(words)} words, labels of shape {labels.shape} and dtype "
                            f"{labels.dtype})")
    order = np.argsort(labels, kind="stable")
    with atomic_write(path, "w") as f:
        f.writelines(f"{words[i]} {int(labels[i])}\n" for i in order)


def read_classes(path) -> Dict[str, int]:
    """Read a ``word class`` file (ours or word2vec.c's) into ``{word: class}``."""
    path = as_path(path, "path")
    result: Dict[str, int] = {}
    try:
        with open(path, "r", encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                parts = line.split()
                if not parts:
                    continue
                if len(parts) != 2 or not _CLASS_ID.fullmatch(parts[1]):
                    raise FormatError(f"{path}:{number}: expected 'word class' (a class id of "
                                      f"at most 18 digits), got {shown(line[:60])}")
                result[parts[0]] = int(parts[1])
    except FileNotFoundError:
        raise FormatError(f"classes file not found: {path}") from None
    except UnicodeDecodeError as e:
        raise FormatError(f"{path}: not UTF-8 text ({e})") from None
    except OSError as e:            # a folder, a path through a file, no permission
        raise FormatError(f"{path}: cannot read: {e.strerror or e}") from None
    return result


_CLASS_ID = re.compile(r"-?[0-9]{1,18}")     # ASCII digits only ('²'.isdigit() is True)
