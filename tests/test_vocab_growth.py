"""Vocabulary growth on resume: new words of the new text get rows, old words keep theirs."""
import numpy as np
import pytest
from click.testing import CliRunner

import w2v
from w2v.cli.main import main as cli
from w2v.demo import generate_sentences
from w2v.errors import UnknownWordError

FEMALE = {"woman", "princess", "mother", "wife", "girl", "daughter", "aunt", "sister", "she",
          "her", "herself", "hers", "mrs", "madam"}
OLD = ["paris", "father", "throne", "husband", "tokyo"]


@pytest.fixture(scope="module")
def grown():
    first = [s for s in generate_sentences(40000, seed=3) if "queen" not in s]
    model = w2v.train(first, size=32, epochs=3, threads=1, seed=2)
    words, counts = list(model.words), model.counts.copy()
    before = {w: [x for x, _ in model.wv.most_similar(w, topn=10)] for w in OLD}
    with pytest.raises(UnknownWordError):
        model.wv["queen"]
    more = generate_sentences(20000, seed=4)
    new_counts = {}
    for s in more:
        for w in s:
            new_counts[w] = new_counts.get(w, 0) + 1
    w2v.resume(model, more, epochs=2, update_vocab=True)
    return model, words, counts, before, new_counts


def test_a_new_word_gets_a_row_and_lands_near_its_planted_neighbours(grown):
    model, words, counts, _, new_counts = grown
    assert model.words[:len(words)] == words and model.words[len(words):] == ["queen"]
    assert model.counts[-1] == new_counts["queen"]
    assert model.input_vectors.shape[0] == model.output_ns.shape[0] == len(words) + 1
    near = {w for w, _ in model.wv.most_similar("queen", topn=8)}
    assert len(near & FEMALE) >= 5, near


def test_old_words_keep_their_rows_counts_and_neighbours(grown):
    model, words, counts, before, new_counts = grown
    i = words.index("paris")
    assert model.counts[i] == counts[i] + new_counts["paris"]
    overlaps = [len(set(before[w]) & {x for x, _ in model.wv.most_similar(w, topn=10)})
                for w in OLD]
    assert min(overlaps) >= 3 and np.mean(overlaps) >= 5, overlaps
    assert model.history[-1]["stage"] == "train" and any(
        r.get("stage") == "update_vocab" and r["added_words"] == 1 for r in model.history)


def test_hierarchical_softmax_restarts_the_inner_nodes_of_the_new_tree():
    first = [s for s in generate_sentences(5000, seed=5) if "queen" not in s]
    model = w2v.train(first, size=16, epochs=1, threads=1, hs=True, negative=0)
    v = len(model.words)
    w2v.resume(model, generate_sentences(3000, seed=6), epochs=1, update_vocab=True)
    assert len(model.words) == v + 1 and model.output_hs.shape == (v, 16)
    assert np.isfinite(model.wv["queen"]).all()


def test_without_update_vocab_new_words_are_skipped():
    first = [s for s in generate_sentences(5000, seed=5) if "queen" not in s]
    model = w2v.train(first, size=16, epochs=1, threads=1)
    v = len(model.words)
    w2v.resume(model, generate_sentences(3000, seed=6), epochs=1)
    assert len(model.words) == v and "queen" not in model.wv


def test_cli_update_vocab(tmp_path):
    first = tmp_path / "first.txt"
    more = tmp_path / "more.txt"
    first.write_text("\n".join(" ".join(s) for s in generate_sentences(5000, seed=5)
                               if "queen" not in s))
    more.write_text("\n".join(" ".join(s) for s in generate_sentences(3000, seed=6)))
    runner = CliRunner()
    r = runner.invoke(cli, ["train", str(first), "-o", str(tmp_path / "m.w2v"), "--epochs", "1",
                            "-q"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["train", str(more), "--resume", str(tmp_path / "m.w2v"),
                            "--update-vocab", "-o", str(tmp_path / "m2.w2v"), "--epochs", "1",
                            "-q"])
    assert r.exit_code == 0, r.output
    assert "queen" in w2v.load(tmp_path / "m2.w2v") and "queen" not in w2v.load(tmp_path / "m.w2v")
    r = runner.invoke(cli, ["train", str(more), "--update-vocab", "-o", str(tmp_path / "x.bin"),
                            "-q"])
    assert r.exit_code != 0 and "--update-vocab: only with --resume" in r.output
    with pytest.raises(w2v.ArgumentError):
        w2v.resume(tmp_path / "m.w2v", str(more), update_vocab="yes")
