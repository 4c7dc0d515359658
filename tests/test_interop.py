"""Interoperability with the other tools on trained models: the C tool's files
load with identical vectors, and our evaluators give gensim's numbers."""
import shutil
import subprocess

import numpy as np
import pytest

import w2v
from w2v.evaluate import evaluate_analogies, evaluate_similarity
from w2v.demo import generate_sentences


def test_we_read_the_c_tools_binary_and_text_files(tmp_path):
    exe = shutil.which("word2vec")
    if exe is None:
        pytest.skip("the C tool is not installed (pip install word2vec, the bench extra)")
    gensim_kv = pytest.importorskip("gensim.models").KeyedVectors
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(" ".join(s) for s in generate_sentences(3000, seed=2)) + "\n")
    for binary in (1, 0):
        out = tmp_path / f"c.{'bin' if binary else 'txt'}"
        subprocess.run([exe, "-train", str(corpus), "-output", str(out), "-size", "20",
                        "-binary", str(binary), "-iter", "1", "-threads", "1", "-min-count", "1"],
                       check=True, capture_output=True, timeout=120)
        ours = w2v.load(str(out))
        ref = gensim_kv.load_word2vec_format(str(out), binary=bool(binary))
        assert ours.words == list(ref.index_to_key)
        np.testing.assert_array_equal(ours.matrix, ref.vectors)


def test_evaluators_equal_gensim_on_a_trained_model(small_corpus, eval_dir, tmp_path):
    gensim_kv = pytest.importorskip("gensim.models").KeyedVectors
    # one thread and a seed: the same vectors every run, so a near-tie between two
    # candidate answers (float32 sums in another order) cannot make this test flaky
    model = w2v.train(small_corpus, size=50, epochs=1, threads=1, seed=3)
    path = tmp_path / "v.bin"
    model.save(path)
    ref = gensim_kv.load_word2vec_format(str(path), binary=True)
    ours = w2v.load(str(path))
    questions = str(eval_dir / "questions-words.txt")
    score, sections = ref.evaluate_word_analogies(questions, restrict_vocab=5000)
    result = evaluate_analogies(ours, questions, restrict_vocab=5000)
    assert result.accuracy == pytest.approx(score, abs=1e-12)
    total = next(s for s in sections if s["section"] == "Total accuracy")
    assert result.correct == len(total["correct"])
    assert result.seen == len(total["correct"]) + len(total["incorrect"])
    pearson, spearman, oov = ref.evaluate_word_pairs(str(eval_dir / "wordsim353.tsv"))
    sim = evaluate_similarity(ours, str(eval_dir / "wordsim353.tsv"))
    assert sim.spearman == pytest.approx(spearman[0], abs=1e-6)
    assert sim.pearson == pytest.approx(pearson[0], abs=1e-6)
    assert sim.oov_ratio * 100 == pytest.approx(oov, abs=1e-9)
