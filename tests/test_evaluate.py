"""Evaluators: exact scores on hand-built vectors, and the same numbers as gensim."""
import numpy as np
import pytest

from w2v import evaluate as ev
from w2v.errors import ConfigError, FormatError
from w2v.vectors import Vectors


def planted():
    """Hand-built: man->woman and king->queen are the same offset; fruit is elsewhere."""
    royal, male, female, person, fruit, other = np.eye(6, dtype=np.float32)
    words = {
        "man": person + male,
        "woman": person + female,
        "king": person + male + 2 * royal,
        "queen": person + female + 2 * royal,
        "apple": fruit,
        "apples": fruit + 0.5 * other,
        "pear": fruit + 0.2 * person,
        "pears": fruit + 0.2 * person + 0.5 * other,
        "rare": other + royal,
    }
    return Vectors(list(words), np.array(list(words.values())))


QUESTIONS = (
    "# a comment\r\n"
    ": family\r\n"
    "man woman king queen\r\n"            # correct
    "King Queen man woman\r\n"            # correct (case-insensitive)
    "man woman apple queen\r\n"           # wrong
    "man woman emperor empress\r\n"       # out of vocabulary
    "\r\n"
    "only three words\r\n"                # invalid, ignored
    ": gram-plural\r\n"
    "apple apples pear pears\r\n"         # correct
    "pear pears apple apples\r\n"         # correct
    "apple apples rare pears\r\n"         # 'rare' is outside restrict_vocab=8
)


def test_exact_scores_on_hand_built_vectors(tmp_path):
    path = tmp_path / "q.txt"
    path.write_bytes(QUESTIONS.encode())
    v = planted()
    r = ev.evaluate_analogies(v, path, restrict_vocab=8)
    fam, plural = r.sections
    assert (fam.name, fam.correct, fam.seen, fam.skipped, fam.total) == ("family", 2, 3, 1, 4)
    assert (plural.name, plural.correct, plural.seen, plural.skipped) == ("gram-plural", 2, 2, 1)
    assert fam.accuracy == pytest.approx(2 / 3)
    assert (r.correct, r.seen, r.skipped, r.total) == (4, 5, 2, 7)
    assert r.accuracy == pytest.approx(4 / 5)
    assert (r.semantic.correct, r.semantic.seen) == (2, 3)
    assert (r.syntactic.correct, r.syntactic.seen) == (2, 2)
    assert r.invalid_lines == 1
    d = r.to_dict()
    assert d["accuracy"] == r.accuracy and d["sections"][1]["name"] == "gram-plural"

    # case-sensitive: 'King Queen man woman' is now out of vocabulary
    r = ev.evaluate_analogies(v, path, restrict_vocab=8, case_insensitive=False)
    assert (r.sections[0].correct, r.sections[0].seen, r.sections[0].skipped) == (1, 2, 2)
    # no restriction: 'rare' is in, and the answer is wrong
    r = ev.evaluate_analogies(v, path, restrict_vocab=None)
    assert (r.syntactic.correct, r.syntactic.seen, r.syntactic.skipped) == (2, 3, 0)


def test_plain_question_lines_without_sections(tmp_path):
    path = tmp_path / "q.txt"
    path.write_text("man woman king queen\nking queen man woman\nman woman apple queen\n")
    r = ev.evaluate_analogies(planted(), path)
    assert (r.correct, r.seen) == (2, 3)
    assert r.sections[0].name == "(no section)"
    assert r.semantic.seen == r.syntactic.seen == 0


def test_mul_method_on_hand_built_vectors(tmp_path):
    path = tmp_path / "q.txt"
    path.write_bytes(QUESTIONS.encode())
    r = ev.evaluate_analogies(planted(), path, restrict_vocab=8, method="mul")
    assert (r.correct, r.seen) == (4, 5)
    with pytest.raises(ConfigError):
        ev.evaluate_analogies(planted(), path, method="div")


def test_a_query_word_is_never_the_answer(tmp_path):
    # b - a + c lands exactly on c: the answer must be the next best word
    m = np.array([[1, 0, 0], [1, 0.01, 0], [0, 1, 0], [0, 1, 0.3], [0, 0, 1]], np.float32)
    v = Vectors(["a", "b", "c", "d", "e"], m)
    path = tmp_path / "q.txt"
    path.write_text(": s\na b c d\na b c c\n")
    r = ev.evaluate_analogies(v, path)
    assert (r.correct, r.seen) == (1, 2)


def test_evaluation_does_not_mutate_the_vectors(tmp_path):
    path = tmp_path / "q.txt"
    path.write_bytes(QUESTIONS.encode())
    v = planted()
    before = v.matrix.copy()
    unit_before = v.unit_matrix.copy()
    words = list(v.words)
    ev.evaluate_analogies(v, path)
    ev.evaluate_analogies(v, path, method="mul")
    np.testing.assert_array_equal(v.matrix, before)
    np.testing.assert_array_equal(v.unit_matrix, unit_before)
    assert v.words == words and v.index == {w: i for i, w in enumerate(words)}


def test_bad_question_files(tmp_path):
    with pytest.raises(FormatError, match="no such file"):
        ev.evaluate_analogies(planted(), tmp_path / "missing.txt")
    (tmp_path / "empty.txt").write_text("# nothing\n: section\n")
    with pytest.raises(FormatError, match="no analogy questions"):
        ev.evaluate_analogies(planted(), tmp_path / "empty.txt")
    (tmp_path / "bad.txt").write_bytes(b": s\nman woman king qu\xffeen\n")
    with pytest.raises(FormatError, match="line 2 is not valid UTF-8"):
        ev.evaluate_analogies(planted(), tmp_path / "bad.txt")


# -- word similarity -----------------------------------------------------------------------
def test_similarity_exact_on_hand_built_vectors(tmp_path):
    from scipy import stats
    v = planted()
    path = tmp_path / "pairs.tsv"
    path.write_text("# w1\tw2\tscore\nman\twoman\t5\nKing\tqueen\t6\napple\tking\t0.5\n"
                    "pear pears 9\napple\tunicorn\t3\nnot a pair at all\n")
    r = ev.evaluate_similarity(v, path)
    model = [v.similarity("man", "woman"), v.similarity("king", "queen"),
             v.similarity("apple", "king"), v.similarity("pear", "pears")]
    gold = [5, 6, 0.5, 9]
    assert (r.pairs, r.oov, r.total, r.invalid_lines) == (4, 1, 5, 1)
    assert r.oov_ratio == pytest.approx(0.2)
    assert r.spearman == pytest.approx(stats.spearmanr(gold, model)[0])
    assert r.pearson == pytest.approx(stats.pearsonr(gold, model)[0])
    r = ev.evaluate_similarity(v, path, case_insensitive=False)
    assert (r.pairs, r.oov) == (3, 2)


def test_similarity_with_too_few_pairs_is_nan_not_an_error(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("man\twoman\t5\nfoo\tbar\t1\n")
    r = ev.evaluate_similarity(planted(), path)
    assert r.pairs == 1 and np.isnan(r.spearman) and np.isnan(r.pearson)
    (tmp_path / "none.tsv").write_text("# nothing here\n")
    with pytest.raises(FormatError, match="no word pairs"):
        ev.evaluate_similarity(planted(), tmp_path / "none.tsv")


# -- the batched search equals a plain one ------------------------------------------------
def structured(seed=0, dim=32, n_entities=40, n_relations=4, n_filler=300):
    """Entities and entity+relation words (noisy), upper-case variants that sit close to
    some words (some before, some after the original), and filler; shuffled."""
    rng = np.random.default_rng(seed)
    ent = rng.standard_normal((n_entities, dim))
    rel = rng.standard_normal((n_relations, dim))
    vecs = {}
    for i in range(n_entities):
        vecs[f"e{i}"] = ent[i]
        for k in range(n_relations):
            vecs[f"e{i}r{k}"] = ent[i] + rel[k] + 1.3 * rng.standard_normal(dim)
    for i in range(n_filler):
        vecs[f"f{i}"] = rng.standard_normal(dim) * 1.5
    words = list(vecs)
    rng.shuffle(words)
    for i in range(0, n_entities, 3):          # case variants, close to the original
        variant = f"E{i}" if i % 2 else f"E{i}R1"
        original = variant.lower()
        vecs[variant] = vecs[original] + 0.1 * rng.standard_normal(dim)
        pos = words.index(original) + (1 if i % 2 else 0)   # after or before the original
        words.insert(pos, variant)
    matrix = np.array([vecs[w] for w in words], dtype=np.float32)
    return Vectors(words, matrix)


def write_questions(path, n_entities=40, n_relations=4, per_section=14, seed=1):
    rng = np.random.default_rng(seed)
    lines = []
    for k in range(n_relations):
        lines.append(f": {'gram-' if k % 2 else ''}rel{k}")
        chosen = rng.choice(n_entities, per_section, replace=False)
        for i in chosen:
            for j in chosen:
                if i != j:
                    a, b, c, d = f"e{i}", f"e{i}r{k}", f"e{j}", f"e{j}r{k}"
                    if rng.random() < 0.2:
                        a, d = a.upper(), d.upper()
                    lines.append(f"{a} {b} {c} {d}")
    lines.append("e1 e2 e3 unknownword")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_word_sims_and_direct_paths_agree(tmp_path, monkeypatch):
    v = structured()
    path = write_questions(tmp_path / "q.txt")
    for method in ("add", "mul"):
        a = ev.evaluate_analogies(v, path, restrict_vocab=400, method=method)
        monkeypatch.setattr(ev, "_WORD_SIMS_MAX_BYTES", 0)
        monkeypatch.setattr(ev, "_TILE_COLUMNS", 97)
        b = ev.evaluate_analogies(v, path, restrict_vocab=400, method=method, threads=1)
        monkeypatch.undo()
        assert a.to_dict() == b.to_dict()
        assert 0.1 < a.accuracy < 0.9          # the test means something


def test_analogies_agree_with_most_similar(tmp_path):
    v = structured()
    path = write_questions(tmp_path / "q.txt", per_section=6)
    r = ev.evaluate_analogies(v, path, restrict_vocab=None, case_insensitive=False)
    correct = 0
    for name, questions in ev.read_analogies(path)[0]:
        for a, b, c, d in questions:
            if all(w in v for w in (a, b, c, d)):
                correct += v.most_similar([b, c], [a], topn=1)[0][0] == d
    assert r.correct == correct


# -- gensim equality ----------------------------------------------------------------------
@pytest.fixture
def gensim_kv():
    gensim = pytest.importorskip("gensim", reason="gensim (a test dependency) is not installed")
    return gensim.models.KeyedVectors


def to_gensim(kv_class, v):
    kv = kv_class(vector_size=v.dim)
    kv.add_vectors(v.words, v.matrix)
    return kv


def assert_same_as_gensim(ours, gensim_result):
    score, sections = gensim_result
    assert len(sections) == len(ours.sections) + 1
    for mine, theirs in zip(ours.sections, sections):
        assert mine.name == theirs["section"]
        assert (mine.correct, mine.seen) == (len(theirs["correct"]),
                                             len(theirs["correct"]) + len(theirs["incorrect"]))
    total = sections[-1]
    assert ours.correct == len(total["correct"])
    assert ours.seen == len(total["correct"]) + len(total["incorrect"])
    assert ours.accuracy == pytest.approx(score, abs=1e-12)


@pytest.mark.parametrize("restrict,case_insensitive", [(400, True), (300, True), (None, False),
                                                        (420, False)])
def test_analogies_equal_gensim(tmp_path, gensim_kv, restrict, case_insensitive, monkeypatch):
    v = structured()
    path = write_questions(tmp_path / "q.txt")
    walks = []
    walk = ev._walk_past_variants
    monkeypatch.setattr(ev, "_walk_past_variants", lambda *a: walks.append(1) or walk(*a))
    ours = ev.evaluate_analogies(v, path, restrict_vocab=restrict,
                                 case_insensitive=case_insensitive)
    assert (len(walks) > 0) == case_insensitive   # the case-variant rule was exercised
    theirs = to_gensim(gensim_kv, v).evaluate_word_analogies(
        str(path), restrict_vocab=restrict or len(v), case_insensitive=case_insensitive)
    assert_same_as_gensim(ours, theirs)
    assert 0.1 < ours.accuracy < 0.9 and ours.skipped > 0


def test_analogies_equal_gensim_on_questions_words(tmp_path, gensim_kv, eval_dir):
    """The real question file (every 8th question, for gensim's sake) on random vectors with
    planted offsets, in a 3,000-word vocabulary that misses some of its words."""
    rng = np.random.default_rng(5)
    lines = (eval_dir / "questions-words.txt").read_text().splitlines()
    sub = [l for i, l in enumerate(lines) if l.startswith(":") or i % 8 == 0]
    path = tmp_path / "qw.txt"
    path.write_text("\n".join(sub) + "\n")
    words = sorted({w.lower() for l in sub if not l.startswith(":") for w in l.split()})
    words = [w for w in words if rng.random() < 0.95]
    words += [f"filler{i}" for i in range(3000 - len(words))]
    rng.shuffle(words)
    dim = 50
    vecs = {w: rng.standard_normal(dim) for w in words}
    offsets = {}
    section = None
    for l in sub:                   # plant a per-section offset on part of the pairs
        if l.startswith(":"):
            section = l
            offsets[section] = rng.standard_normal(dim)
            continue
        a, b = (w.lower() for w in l.split()[:2])
        if a in vecs and b in vecs and rng.random() < 0.5:
            vecs[b] = vecs[a] + offsets[section] + 0.5 * rng.standard_normal(dim)
    v = Vectors(words, np.array([vecs[w] for w in words], dtype=np.float32))
    ours = ev.evaluate_analogies(v, path, restrict_vocab=2500)
    theirs = to_gensim(gensim_kv, v).evaluate_word_analogies(str(path), restrict_vocab=2500)
    assert_same_as_gensim(ours, theirs)
    assert ours.correct > 50 and ours.skipped > 50


@pytest.mark.parametrize("case_insensitive", [True, False])
def test_similarity_equals_gensim(tmp_path, gensim_kv, case_insensitive):
    v = structured()
    rng = np.random.default_rng(2)
    lines = ["# word1\tword2\tscore"]
    for _ in range(200):
        a, b = rng.choice(v.words[:380], 2)
        if rng.random() < 0.3:
            a = a.upper()
        lines.append(f"{a}\t{b}\t{rng.uniform(0, 10):.2f}")
    lines.append("nonsense\tword\t3.0")
    path = tmp_path / "pairs.tsv"
    path.write_text("\n".join(lines) + "\n")
    ours = ev.evaluate_similarity(v, path, case_insensitive=case_insensitive, restrict_vocab=350)
    pearson, spearman, oov = to_gensim(gensim_kv, v).evaluate_word_pairs(
        str(path), restrict_vocab=350, case_insensitive=case_insensitive)
    assert ours.pearson == pytest.approx(pearson[0], abs=1e-6)
    assert ours.pearson_pvalue == pytest.approx(pearson[1], rel=1e-4)
    assert ours.spearman == pytest.approx(spearman[0], abs=1e-6)
    assert ours.oov_ratio * 100 == pytest.approx(oov, abs=1e-9)
    assert ours.oov > 0


def test_similarity_equals_gensim_on_wordsim353(gensim_kv, eval_dir):
    path = eval_dir / "wordsim353.tsv"
    pairs, _ = ev.read_word_pairs(path)
    rng = np.random.default_rng(0)
    words = sorted({w.lower() for _, a, b, _ in pairs for w in (a, b)})[::-1][:380]
    v = Vectors(words, rng.standard_normal((len(words), 20)).astype(np.float32))
    ours = ev.evaluate_similarity(v, path)
    pearson, spearman, oov = to_gensim(gensim_kv, v).evaluate_word_pairs(str(path))
    assert ours.pearson == pytest.approx(pearson[0], abs=1e-6)
    assert ours.spearman == pytest.approx(spearman[0], abs=1e-6)
    assert ours.oov_ratio * 100 == pytest.approx(oov, abs=1e-9)
