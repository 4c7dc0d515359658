"""Analogy and word-similarity evaluators: pure functions over a vectors object.

Semantics follow the reference evaluators (the C tool's compute-accuracy as
implemented by gensim's ``KeyedVectors.evaluate_word_analogies`` and
``evaluate_word_pairs``), so the numbers are comparable:

* only the first ``restrict_vocab`` words take part: a question (or pair) with a
  word outside them is skipped (counted as out-of-vocabulary), and only those
  words are candidate answers;
* ``case_insensitive`` compares upper-cased words; when several vocabulary words
  share an upper-cased form, the first (most frequent) one stands for it;
* the answer to ``a b c ?`` is the best-scoring candidate other than a, b and c
  (3CosAdd: cosine with unit(b) + unit(c) - unit(a); 3CosMul on request); a
  candidate that is only a case variant of a, b or c is passed over, looking at
  most five deep, as gensim does;
* accuracy = correct / questions seen (skipped questions are not in the
  denominator); a section with no question seen has accuracy 0.

The vectors are never modified: scores come from the cached unit matrix, in
batches of matrix products, with the three query words masked per question.
"""
from __future__ import annotations

import math
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np

from .config import int_argument
from .errors import ConfigError, FormatError, shown
from .outputs import as_path, output_kind
from .vectors import COSMUL_EPS, as_vectors, top_k

__all__ = ["evaluate_analogies", "evaluate_similarity", "read_analogies", "read_word_pairs",
           "AnalogyResult", "SectionScore", "SimilarityResult"]

_CHUNK_QUESTIONS = 128         # questions per work item
_TILE_COLUMNS = 2048           # vocabulary columns per tile (keeps a tile in cache)
_WORD_SIMS_MAX_BYTES = 512 << 20
_GENSIM_DEPTH = 5              # how deep gensim looks past case variants of the query


@dataclass
class SectionScore:
    """Questions of one section (or a group of sections)."""
    name: str
    correct: int = 0
    seen: int = 0              # answered: all four words within the vocabulary
    skipped: int = 0           # not answered: a word outside the (restricted) vocabulary

    @property
    def total(self) -> int:
        return self.seen + self.skipped

    @property
    def accuracy(self) -> float:
        return self.correct / self.seen if self.seen else 0.0

    def add(self, other: "SectionScore") -> None:
        self.correct += other.correct
        self.seen += other.seen
        self.skipped += other.skipped

    def to_dict(self) -> dict:
        return {"name": self.name, "accuracy": self.accuracy, "correct": self.correct,
                "seen": self.seen, "skipped": self.skipped, "total": self.total}


@dataclass
class AnalogyResult:
    """What :func:`evaluate_analogies` found; ``accuracy`` is overall correct / seen."""
    path: str
    method: str
    restrict_vocab: Optional[int]
    case_insensitive: bool
    overall: SectionScore
    semantic: SectionScore     # sections whose name does not start with "gram"
    syntactic: SectionScore    # sections whose name starts with "gram"
    sections: List[SectionScore] = field(default_factory=list)
    invalid_lines: int = 0     # lines that are not a header, comment or four words

    @property
    def accuracy(self) -> float:
        return self.overall.accuracy

    @property
    def correct(self) -> int:
        return self.overall.correct

    @property
    def seen(self) -> int:
        return self.overall.seen

    @property
    def skipped(self) -> int:
        return self.overall.skipped

    @property
    def total(self) -> int:
        return self.overall.total

    def to_dict(self) -> dict:
        return {"path": self.path, "method": self.method, "restrict_vocab": self.restrict_vocab,
                "case_insensitive": self.case_insensitive, **self.overall.to_dict(),
                "name": "total", "semantic": self.semantic.to_dict(),
                "syntactic": self.syntactic.to_dict(),
                "sections": [s.to_dict() for s in self.sections],
                "invalid_lines": self.invalid_lines}


@dataclass
class SimilarityResult:
    """What :func:`evaluate_similarity` found."""
    path: str
    spearman: float
    spearman_pvalue: float
    pearson: float
    pearson_pvalue: float
    pairs: int                 # pairs scored
    oov: int                   # pairs skipped: a word outside the (restricted) vocabulary
    invalid_lines: int = 0

    @property
    def total(self) -> int:
        return self.pairs + self.oov

    @property
    def oov_ratio(self) -> float:
        """Fraction of pairs skipped (gensim reports 100 times this, in percent)."""
        return self.oov / self.total if self.total else 0.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(total=self.total, oov_ratio=self.oov_ratio)
        return d


# --------------------------------------------------------------------------------------
# reading the files
# --------------------------------------------------------------------------------------
def _lines(path) -> List[Tuple[int, str]]:
    """``(line number, text)`` of a UTF-8 file; CRLF tolerated; FormatError when unreadable."""
    name = as_path(path, "path")
    if os.path.isdir(name):
        raise FormatError(f"{name}: is a directory")
    if os.path.exists(name) and output_kind(name) != "file":
        raise FormatError(f"{name}: not a regular file (a pipe or device); give a file")
    try:
        with open(name, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise FormatError(f"{name}: no such file") from None
    except OSError as e:
        raise FormatError(f"{name}: cannot read: {e.strerror or e}") from None
    out = []
    for no, raw in enumerate(data.split(b"\n"), 1):
        try:
            out.append((no, raw.decode("utf-8").rstrip("\r")))
        except UnicodeDecodeError as e:
            raise FormatError(f"{name}: line {no} is not valid UTF-8 (byte {e.start} of the "
                              f"line)") from None
    return out


def read_analogies(path) -> Tuple[List[Tuple[Optional[str], List[Tuple[str, str, str, str]]]], int]:
    """Sections of questions from the Google format (``: name`` headers) or plain
    ``a b c d`` lines: ``([(name or None, [(a, b, c, d), ...]), ...], invalid_lines)``.
    Blank lines and ``#`` comments are ignored."""
    sections: List[Tuple[Optional[str], list]] = []
    current = None
    invalid = 0
    for _, line in _lines(path):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if text.startswith(":"):
            current = (text.lstrip(": ").strip(), [])
            sections.append(current)
            continue
        words = text.split()
        if len(words) != 4:
            invalid += 1
            continue
        if current is None:
            current = (None, [])
            sections.append(current)
        current[1].append(tuple(words))
    return sections, invalid


def read_word_pairs(path) -> Tuple[List[Tuple[int, str, str, float]], int]:
    """``([(line, w1, w2, score), ...], invalid_lines)`` from tab- or space-separated
    ``w1 w2 score`` lines; ``#`` comments and blank lines are ignored."""
    pairs, invalid = [], 0
    for no, line in _lines(path):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in line.split("\t")] if "\t" in line else line.split()
        try:
            a, b, score = parts
            score = float(score)
        except ValueError:
            invalid += 1
            continue
        if not a or not b or not math.isfinite(score):
            invalid += 1
            continue
        pairs.append((no, a, b, score))
    return pairs, invalid


def _vocabulary(vectors, restrict_vocab, case_insensitive):
    """``(n, keys, lookup)``: candidate count, the comparison key of each candidate row,
    and key -> row of the first word with that key."""
    n = len(vectors) if restrict_vocab is None else min(int_argument(restrict_vocab,
                                                                     "restrict_vocab"), len(vectors))
    words = vectors.words[:n]
    keys = [w.upper() for w in words] if case_insensitive else list(words)
    lookup: Dict[str, int] = {}
    for i, k in enumerate(keys):
        lookup.setdefault(k, i)
    return n, keys, lookup


# --------------------------------------------------------------------------------------
# analogies
# --------------------------------------------------------------------------------------
def evaluate_analogies(vectors, path, restrict_vocab: Optional[int] = 30000,
                       case_insensitive: bool = True, method: str = "add",
                       threads: Optional[int] = None) -> AnalogyResult:
    """Accuracy on an analogy file: overall, per section and semantic vs syntactic.

    See the module docstring for the exact rules (they equal gensim's
    ``evaluate_word_analogies``; ``method='mul'`` uses 3CosMul instead of 3CosAdd)."""
    if method not in ("add", "mul"):
        raise ConfigError(f"method must be 'add' or 'mul', got {shown(method)}")
    if threads is not None:
        threads = int_argument(threads, "threads", 1, 1024)
    vectors = as_vectors(vectors)
    sections, invalid = read_analogies(path)
    if not any(qs for _, qs in sections):
        raise FormatError(f"{as_path(path)}: no analogy questions (expected lines of four "
                          f"words, optionally under ': section' headers)")
    n, keys, lookup = _vocabulary(vectors, restrict_vocab, case_insensitive)

    scores, rows, expected, owner = [], [], [], []
    for s, (name, questions) in enumerate(sections):
        score = SectionScore(name if name is not None else "(no section)")
        scores.append(score)
        for q in questions:
            q = [w.upper() for w in q] if case_insensitive else q
            idx = [lookup.get(w) for w in q]
            if None in idx:
                score.skipped += 1
                continue
            score.seen += 1
            rows.append(idx[:3])
            expected.append(q[3])
            owner.append(s)

    if rows:
        rows_arr = np.array(rows, dtype=np.int64)
        unit = vectors.unit_matrix[:n]
        best = _best_answers(unit, rows_arr, method, threads)
        variants = len(lookup) < n            # some candidates are case variants of others
        for i, b in enumerate(best):
            predicted = keys[b] if b >= 0 else None
            if variants and predicted is not None:
                ignore = {keys[r] for r in rows[i]}
                if predicted in ignore:
                    predicted = _walk_past_variants(unit, rows_arr[i], keys, ignore, method)
            if predicted == expected[i]:
                scores[owner[i]].correct += 1

    overall, semantic, syntactic = (SectionScore("total"), SectionScore("semantic"),
                                    SectionScore("syntactic"))
    for (name, _), score in zip(sections, scores):
        overall.add(score)
        if name is not None:
            (syntactic if name.startswith("gram") else semantic).add(score)
    return AnalogyResult(path=as_path(path), method=method, restrict_vocab=restrict_vocab,
                         case_insensitive=case_insensitive, overall=overall, semantic=semantic,
                         syntactic=syntactic, sections=scores, invalid_lines=invalid)


def _best_answers(unit: np.ndarray, rows: np.ndarray, method: str,
                  threads: Optional[int]) -> np.ndarray:
    """Row of the best candidate for each question ``rows[i] = (a, b, c)``, with a, b and c
    excluded; -1 when no candidate is left.

    When few distinct words are asked about (the usual case: questions-words has 19,544
    questions over ~900 words), the cosine of every query word with every candidate is
    computed once, and each question's scores are sums of three of those rows, tile by
    tile in cache. Otherwise each chunk of questions is one matrix product."""
    n = len(unit)
    uniq, inverse = np.unique(rows, return_inverse=True)
    inverse = inverse.reshape(rows.shape)
    word_sims = None
    if len(uniq) * n * 4 <= _WORD_SIMS_MAX_BYTES and len(uniq) < len(rows):
        word_sims = unit[uniq] @ unit.T                      # (distinct words, n)

    def work(start: int) -> Tuple[np.ndarray, np.ndarray]:
        stop = min(start + _CHUNK_QUESTIONS, len(rows))
        r = rows[start:stop]
        m = stop - start
        best = np.full(m, -1, dtype=np.int64)
        best_score = np.full(m, -np.inf, dtype=np.float32)
        arange = np.arange(m)
        if word_sims is None:
            full = _direct_scores(unit, r, method)
        for j0 in range(0, n, _TILE_COLUMNS):
            j1 = min(n, j0 + _TILE_COLUMNS)
            if word_sims is None:
                x = full[:, j0:j1]
            else:
                tile = word_sims[:, j0:j1]
                ia, ib, ic = inverse[start:stop].T
                if method == "add":
                    x = tile[ib]
                    x += tile[ic]
                    x -= tile[ia]
                else:
                    x = _cosmul(tile[ia], tile[ib], tile[ic])
            for col in r.T:                                   # mask a, b and c
                inside = (col >= j0) & (col < j1)
                x[arange[inside], col[inside] - j0] = -np.inf
            arg = x.argmax(axis=1)
            value = x[arange, arg]
            better = value > best_score
            best[better] = arg[better] + j0
            best_score[better] = value[better]
        return start, best

    out = np.empty(len(rows), dtype=np.int64)
    starts = range(0, len(rows), _CHUNK_QUESTIONS)
    workers = max(1, min(threads or os.cpu_count() or 1, 8, len(starts)))
    if workers == 1:
        results = map(work, starts)
    else:
        pool = ThreadPoolExecutor(workers)
        results = pool.map(work, starts)
    try:
        for start, best in results:
            out[start:start + len(best)] = best
    finally:
        if workers > 1:
            pool.shutdown()
    return out


def _direct_scores(unit: np.ndarray, r: np.ndarray, method: str) -> np.ndarray:
    """Scores of every candidate for questions ``r`` (m, 3), by matrix products."""
    if method == "add":
        q = unit[r[:, 1]] + unit[r[:, 2]] - unit[r[:, 0]]
        return q @ unit.T
    return _cosmul(unit[r[:, 0]] @ unit.T, unit[r[:, 1]] @ unit.T, unit[r[:, 2]] @ unit.T)


def _cosmul(cos_a, cos_b, cos_c) -> np.ndarray:
    """3CosMul with cosines shifted to [0, 1]: (1+b)/2 * (1+c)/2 / ((1+a)/2 + eps)."""
    x = (1 + cos_b) / 2
    x *= (1 + cos_c) / 2
    x /= (1 + cos_a) / 2 + np.float32(COSMUL_EPS)
    return x


def _walk_past_variants(unit, abc, keys, ignore, method) -> Optional[str]:
    """gensim's rule when the best candidate is a case variant of a query word: take the
    first of the top five (query rows excluded) whose key is not a query key, else the fifth."""
    scores = _direct_scores(unit, abc[None, :], method)[0].astype(np.float64)
    scores[abc] = -np.inf
    predicted = None
    for i in top_k(scores, min(_GENSIM_DEPTH, len(scores) - len(set(abc.tolist())))):
        predicted = keys[i]
        if predicted not in ignore:
            break
    return predicted


# --------------------------------------------------------------------------------------
# word similarity
# --------------------------------------------------------------------------------------
def evaluate_similarity(vectors, path, case_insensitive: bool = True,
                        restrict_vocab: Optional[int] = 300000) -> SimilarityResult:
    """Spearman and Pearson correlation between cosine similarities and human scores.

    Pairs with a word outside the first ``restrict_vocab`` words are skipped and
    counted in ``oov`` (gensim's default, ``dummy4unknown=False``). The correlations are
    NaN when fewer than two pairs could be scored."""
    from scipy import stats

    vectors = as_vectors(vectors)
    pairs, invalid = read_word_pairs(path)
    if not pairs:
        raise FormatError(f"{as_path(path)}: no word pairs (expected lines 'word1 word2 score')")
    n, keys, lookup = _vocabulary(vectors, restrict_vocab, case_insensitive)
    ia, ib, gold = [], [], []
    oov = 0
    for _, a, b, score in pairs:
        if case_insensitive:
            a, b = a.upper(), b.upper()
        if a not in lookup or b not in lookup:
            oov += 1
            continue
        ia.append(lookup[a])
        ib.append(lookup[b])
        gold.append(score)
    nan = float("nan")
    spearman = pearson = (nan, nan)
    if len(gold) >= 2:
        unit = vectors.unit_matrix
        model = np.einsum("ij,ij->i", unit[ia], unit[ib])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")      # constant input: NaN, which we report
            s = stats.spearmanr(gold, model)
            p = stats.pearsonr(gold, model)
        spearman = (float(s[0]), float(s[1]))
        pearson = (float(p[0]), float(p[1]))
    return SimilarityResult(path=as_path(path), spearman=spearman[0],
                            spearman_pvalue=spearman[1], pearson=pearson[0],
                            pearson_pvalue=pearson[1], pairs=len(gold), oov=oov,
                            invalid_lines=invalid)
