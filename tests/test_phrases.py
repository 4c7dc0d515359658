"""Phrases: counting, scoring, greedy joining, passes, line breaks, pruning, files, CLI, training.

Every corpus here is generated. In the planted corpus, four pairs always occur
together (count(a) = count(b) = count(ab) = 300 in 100k tokens: score ~ 330 at
min_count 5, far above 100), while "the" and "of" are frequent and independent
(count ~ 10k each, count(the of) ~ 1k: score ~ 1).
"""
import collections
import gzip
import math
import os
import random

import pytest
from click.testing import CliRunner

import w2v
from w2v._phrases import PhraseCounter
from w2v.cli.main import main as cli
from w2v.errors import ConfigError, CorpusError, FormatError
from w2v.phrases import Phrases, score

from conftest import write_lines

PLANTED = [("hong", "kong"), ("sri", "lanka"), ("los", "angeles"), ("prime", "minister")]
FILLER = [f"w{i}" for i in range(300)]


def planted_sentences(n_lines=5000, seed=0, plant_every=17):
    """~100k tokens: filler words, 'the'/'of' ~10% each, a planted pair every ~17 tokens."""
    rng = random.Random(seed)
    sentences, n_plants = [], 0
    for _ in range(n_lines):
        s = []
        while len(s) < 20:
            r = rng.random()
            if r < 0.1:
                s.append("the")
            elif r < 0.2:
                s.append("of")
            elif r < 0.2 + 1 / plant_every and n_plants < 1200:
                s.extend(PLANTED[n_plants % len(PLANTED)])
                n_plants += 1
            else:
                s.append(rng.choice(FILLER))
        sentences.append(s)
    return sentences


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    return write_lines(tmp_path_factory.mktemp("phrases") / "planted.txt", planted_sentences())


def test_planted_pairs_are_joined_and_independent_pairs_are_not(planted, tmp_path):
    found = Phrases.learn(planted)                       # word2phrase defaults: 100, min_count 5
    pairs = found.tables[0].pairs
    assert set(PLANTED) <= set(pairs)
    for a, b in PLANTED:
        assert pairs[(a, b)][2] == 300
    counts = collections.Counter(p for s in planted_sentences() for p in zip(s, s[1:]))
    assert counts[("the", "of")] > 500                   # frequent, independent, not a phrase
    assert ("the", "of") not in pairs and ("of", "the") not in pairs
    assert all(cab >= 5 for (_, _, cab, _) in pairs.values())
    out = tmp_path / "out.txt"
    found.transform(planted, out)
    tokens = collections.Counter(open(out).read().split())
    for a, b in PLANTED:
        assert tokens[f"{a}_{b}"] == 300 and tokens[a] == 0 and tokens[b] == 0
    assert tokens["the_of"] == 0 and tokens["of_the"] == 0


def test_compiled_and_python_application_agree(planted, tmp_path):
    found = Phrases.learn(planted, threshold=20)
    out = tmp_path / "out.txt"
    stats = found.transform(planted, out)
    lines = open(out).read().splitlines()
    expected = [found.apply(s) for s in planted_sentences()]
    assert [l.split() for l in lines] == expected
    assert all(l == " ".join(l.split()) for l in lines)    # one space between tokens, no more
    assert stats["lines"] == len(lines) and stats["tokens"] == sum(len(s) for s in planted_sentences())


def test_counts_match_a_python_count():
    rng = random.Random(3)
    vocab = [f"v{i}" for i in range(400)]
    lines = [" ".join(rng.choice(vocab) for _ in range(rng.randint(0, 40))) for _ in range(3000)]
    counter = PhraseCounter(1000, 0)
    counter.feed("\n".join(lines).encode() + b"\n")
    counter.finish()
    words, counts = counter.entries()
    index = {w.decode(): i for i, w in enumerate(words)}
    a, b, c = counter.pairs.at_least(1)
    got = {(words[x].decode(), words[y].decode()): int(n) for x, y, n in zip(a, b, c)}
    want = collections.Counter(p for l in lines for s in [l.split()] for p in zip(s, s[1:]))
    assert got == dict(want)
    assert len(got) > 20000                              # the table grew through several rehashes
    unigrams = collections.Counter(t for l in lines for t in l.split())
    assert {w: int(counts[i]) for w, i in index.items()} == dict(unigrams)


def test_scores_equal_the_formula_on_hand_counted_pairs():
    # unigrams a=4 b=4 c=3, N=11; pairs within lines: ab=3 ba=1 bc=2 ca=2
    # (across line ends "c b" and "b c" would add cb=1, bc=3 if lines were crossed)
    corpus = [["a", "b", "a", "b", "c"], ["b", "c", "a", "b"], ["c", "a"]]
    default = Phrases.learn(corpus, min_count=1, threshold=-1.0).tables[0]
    assert default.total_words == 11
    assert default.pairs[("a", "b")] == (4, 4, 3, pytest.approx((3 - 1) / (4 * 4) * 11))
    assert default.pairs[("b", "a")] == (4, 4, 1, 0.0)
    assert default.pairs[("b", "c")] == (4, 3, 2, pytest.approx((2 - 1) / (4 * 3) * 11))
    assert default.pairs[("c", "a")] == (3, 4, 2, pytest.approx((2 - 1) / (3 * 4) * 11))
    assert set(default.pairs) == {("a", "b"), ("b", "a"), ("b", "c"), ("c", "a")}

    npmi = Phrases.learn(corpus, min_count=1, threshold=-1.0, scoring="npmi").tables[0]
    for (a, b), cab in {("a", "b"): 3, ("b", "a"): 1, ("b", "c"): 2, ("c", "a"): 2}.items():
        ca, cb = {"a": 4, "b": 4, "c": 3}[a], {"a": 4, "b": 4, "c": 3}[b]
        want = math.log((cab / 11) / ((ca / 11) * (cb / 11))) / -math.log(cab / 11)
        assert npmi.pairs[(a, b)][3] == pytest.approx(want, rel=1e-12)
    assert score(5, 5, 5, 5, 1, "npmi") == 1.0          # p(ab) = 1
    # min_count is subtracted in the default score and filters pairs in both
    two = Phrases.learn(corpus, min_count=2, threshold=-1.0).tables[0]
    assert set(two.pairs) == {("a", "b"), ("b", "c"), ("c", "a")}
    assert two.pairs[("a", "b")][3] == pytest.approx((3 - 2) / 16 * 11)
    # the threshold is strict: a pair scoring exactly the threshold is not a phrase
    assert ("a", "b") not in Phrases.learn(corpus, min_count=1, threshold=1.375).tables[0].pairs


def test_greedy_left_to_right():
    found = Phrases.learn([["x", "y", "z"]] * 50, min_count=1, threshold=-1.0)
    assert {("x", "y"), ("y", "z")} <= set(found.tables[0].pairs)
    assert found.apply(["x", "y", "z"]) == ["x_y", "z"]       # y is consumed by x_y
    assert found.apply(["y", "z", "x", "y"]) == ["y_z", "x_y"]


def test_two_passes_make_three_and_four_word_phrases(tmp_path):
    rng = random.Random(5)
    lines = []
    for i in range(4000):
        s = [rng.choice(FILLER) for _ in range(12)]
        k = rng.randrange(len(s))
        s[k:k] = ["new", "york", "city"] if i % 2 else ["red", "hot", "chili", "peppers"]
        lines.append(s)
    path = write_lines(tmp_path / "c.txt", lines)
    # each pair ~2000 times in ~60k tokens scores ~30: above 10, not above word2phrase's 100
    one = Phrases.learn(path, passes=1, threshold=10)
    two = Phrases.learn(path, passes=2, threshold=10)
    out1, out2 = tmp_path / "o1.txt", tmp_path / "o2.txt"
    one.transform(path, out1)
    two.transform(path, out2)
    t1, t2 = collections.Counter(open(out1).read().split()), collections.Counter(open(out2).read().split())
    assert max(t.count("_") for t in t1) == 1
    assert t1["new_york"] == 2000 and t1["red_hot"] == 2000 and t1["chili_peppers"] == 2000
    assert t2["new_york_city"] == 2000 and t2["red_hot_chili_peppers"] == 2000
    assert len(two.tables) == 2 and ("new_york", "city") in two.tables[1].pairs
    assert two.apply("eat red hot chili peppers in new york city".split()) == \
        ["eat", "red_hot_chili_peppers", "in", "new_york_city"]


def test_phrases_never_cross_a_line_break(tmp_path):
    # "sri lanka" is a phrase inside lines; "zeta" always ends a line and "eta" starts the next
    lines = []
    for i in range(600):
        lines.append([FILLER[i % 300], "sri", "lanka", FILLER[(i * 7) % 300], "zeta"])
        lines.append(["eta", FILLER[(i * 11) % 300], "sri"])
        lines.append(["lanka", FILLER[(i * 13) % 300]])
    path = write_lines(tmp_path / "c.txt", lines)
    found = Phrases.learn(path, min_count=1, threshold=-1.0)
    assert ("zeta", "eta") not in found.tables[0].pairs
    assert found.tables[0].pairs[("sri", "lanka")][2] == 600      # the 600 in-line ones only
    out = tmp_path / "o.txt"
    found.transform(path, out)
    got = open(out).read().splitlines()
    assert len(got) == len(lines)
    for line, orig in zip(got, lines):
        assert line.replace("_", " ").split() == orig             # nothing moved across lines
    assert sum(l.split()[-1] == "sri" for l in got) == 600        # the line-final "sri" stays


def test_pruning_bounds_the_tables_and_keeps_planted_phrases(tmp_path):
    rng = random.Random(9)
    noise = [f"n{i}" for i in range(5000)]
    lines = []
    for i in range(3000):
        s = [rng.choice(noise) for _ in range(12)]
        if i % 4 == 0:                              # each planted pair ~190 times in ~37k tokens
            s[6:6] = list(PLANTED[(i // 4) % 4])
        lines.append(s)
    path = write_lines(tmp_path / "c.txt", lines)
    bound = 4000                                    # ~36k distinct pairs, ~5k words
    found = Phrases.learn(path, max_table_size=bound)
    table = found.tables[0]
    assert table.pruned
    assert table.peak_pairs <= bound and table.peak_words <= bound
    assert set(PLANTED) <= set(table.pairs)
    unbounded = Phrases.learn(path, max_table_size=None).tables[0]
    assert not unbounded.pruned and unbounded.peak_pairs > 30000
    # direct check of the invariant: pruned counts are lower bounds, pair <= its words
    counter = PhraseCounter(1000, bound)
    counter.feed(open(path, "rb").read())
    counter.finish()
    assert counter.pairs.peak_entries <= bound and len(counter.pairs) <= bound
    assert counter.peak_words <= bound and counter.prunes > 0 and counter.pairs.prunes > 0
    words, counts = counter.entries()
    a, b, c = counter.pairs.at_least(1)
    assert (c <= counts[a]).all() and (c <= counts[b]).all()


def test_save_load_round_trip(planted, tmp_path):
    found = Phrases.learn(planted, passes=2, threshold=20)
    path = tmp_path / "table.json"
    found.save(path)
    back = Phrases.load(path)
    assert [t.pairs for t in back.tables] == [t.pairs for t in found.tables]
    assert (back.scoring, back.threshold, back.min_count) == ("default", 20.0, 5)
    sentence = planted_sentences(50, seed=1)[7]
    assert back.apply(sentence) == found.apply(sentence)
    assert open(path, "rb").read(1) == b"{"                     # JSON, not pickle
    (tmp_path / "bad.json").write_text('{"format": "something else"}')
    with pytest.raises(FormatError, match="not a phrase table"):
        Phrases.load(tmp_path / "bad.json")
    (tmp_path / "trunc.json").write_text(path.read_text()[:100])
    with pytest.raises(FormatError):
        Phrases.load(tmp_path / "trunc.json")


def test_output_is_written_atomically(planted, tmp_path, monkeypatch):
    found = Phrases.learn(planted)
    out = tmp_path / "out.txt"
    out.write_text("previous\n")

    def broken_stream(self, corpus, progress=None, stats=None):
        yield b"partial output "
        raise OSError("disk on fire")

    monkeypatch.setattr(Phrases, "stream", broken_stream)
    with pytest.raises(OSError, match="disk on fire"):
        found.transform(planted, out)
    assert out.read_text() == "previous\n"
    assert os.listdir(tmp_path) == ["out.txt"]                  # no temporary file left


def test_compressed_input_and_options_are_checked(planted, tmp_path):
    gz = tmp_path / "planted.txt.gz"
    with open(planted, "rb") as f, gzip.open(gz, "wb") as g:
        g.write(f.read())
    assert Phrases.learn(gz).tables[0].pairs == Phrases.learn(planted).tables[0].pairs
    with pytest.raises(ConfigError, match="--threshold"):
        Phrases.learn(planted, scoring="npmi", threshold=1.5)
    with pytest.raises(ConfigError, match="--passes"):
        Phrases.learn(planted, passes=0)
    with pytest.raises(ConfigError, match="--scoring"):
        Phrases.learn(planted, scoring="pmi")
    with pytest.raises(CorpusError, match="no words"):
        Phrases.learn([[]])


def _one_line_error(result):
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def test_cli(planted, tmp_path):
    runner = CliRunner()
    out, table = tmp_path / "out.txt", tmp_path / "t.json"
    r = runner.invoke(cli, ["phrases", planted, "-o", str(out), "--save-table", str(table)])
    assert r.exit_code == 0, r.output
    assert collections.Counter(out.read_text().split())["hong_kong"] == 300
    assert ("hong", "kong") in Phrases.load(table).tables[0].pairs
    assert "not found" in _one_line_error(runner.invoke(cli, ["phrases", str(tmp_path / "nope.txt"),
                                                               "-o", str(out)]))
    assert "--threshold" in _one_line_error(runner.invoke(
        cli, ["phrases", planted, "-o", str(out), "--scoring", "npmi", "--threshold", "2"]))
    assert "--threshold" in _one_line_error(runner.invoke(
        cli, ["phrases", planted, "-o", str(out), "--threshold", "nan"]))
    assert "--passes" in _one_line_error(runner.invoke(cli, ["phrases", planted, "-o", str(out),
                                                             "--passes", "0"]))
    assert "--phrases" in _one_line_error(runner.invoke(cli, ["train", planted, "-o",
                                                              str(tmp_path / "v.bin"),
                                                              "--phrases", "-1"]))
    assert collections.Counter(out.read_text().split())["hong_kong"] == 300   # untouched by failures


def test_train_with_phrases(planted, tmp_path):
    gz = tmp_path / "planted.txt.gz"
    with open(planted, "rb") as f, gzip.open(gz, "wb") as g:
        g.write(f.read())
    options = dict(size=16, epochs=1, threads=1, min_count=5, negative=2)
    model = w2v.train(str(gz), phrases=1, **options)
    assert {"hong_kong", "sri_lanka", "los_angeles", "prime_minister"} <= set(model.words)
    assert "hong" not in model.words
    record = next(h for h in model.history if h["stage"] == "phrases")
    assert record["phrases"][0] >= 4 and record["passes"] == 1
    plain = w2v.train(planted, **options)
    assert "hong_kong" not in plain.words and "hong" in plain.words
    # a one-shot generator is read once and replayed
    model = w2v.train((s for s in planted_sentences()), phrases=1, **options)
    assert "hong_kong" in model.words
