"""Continued training and the `w2v train` command end to end."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from click.testing import CliRunner

import w2v
from w2v.cli.main import main
from w2v.demo import generate_sentences


@pytest.fixture(scope="module")
def sentences():
    return generate_sentences(8000, seed=11)


def test_resume_continues_from_saved_model_without_touching_the_file(tmp_path, sentences):
    model = w2v.train(sentences, sg=True, size=20, epochs=2, threads=1, seed=3)
    path = tmp_path / "m.w2v"
    model.save(path)
    before = path.read_bytes()
    resumed = w2v.resume(str(path), sentences, epochs=2, threads=1)
    assert len(resumed.epoch_losses) == 4
    assert not np.array_equal(resumed.input_vectors, model.input_vectors)
    assert path.read_bytes() == before            # copy-on-write map: file unchanged
    # resuming twice from the same file with one thread is deterministic
    again = w2v.resume(str(path), sentences, epochs=2, threads=1)
    np.testing.assert_array_equal(resumed.input_vectors, again.input_vectors)


def test_resume_ignores_new_words_and_requires_output_weights(tmp_path, sentences):
    model = w2v.train(sentences, size=10, epochs=1, threads=1)
    more = [["zzz_new", "king", "queen", "zzz_new"]] * 50
    resumed = w2v.resume(model, more, epochs=1, threads=1)
    assert "zzz_new" not in resumed.words and len(resumed.words) == len(model.words)
    vec_path = tmp_path / "v.bin"
    model.save(vec_path)
    with pytest.raises(w2v.W2VError):
        w2v.resume(str(vec_path), sentences)


def write_corpus(path, sentences):
    path.write_text("\n".join(" ".join(s) for s in sentences) + "\n")
    return str(path)


def test_cli_train_writes_every_format_and_gensim_reads_it(tmp_path, sentences):
    corpus = write_corpus(tmp_path / "c.txt", sentences)
    runner = CliRunner()
    for name in ("v.bin", "v.txt", "v.vec", "m.w2v"):
        out = tmp_path / name
        result = runner.invoke(main, ["train", corpus, "-o", str(out), "--size", "16", "--iter", "1",
                                      "--threads", "2", "--quiet"])
        assert result.exit_code == 0, result.output
        vecs = w2v.load(str(out))
        assert vecs.dim == 16 and "king" in vecs
    kv = pytest.importorskip("gensim.models").KeyedVectors
    g = kv.load_word2vec_format(str(tmp_path / "v.bin"), binary=True)
    ours = w2v.load(str(tmp_path / "v.bin"))
    np.testing.assert_array_equal(g["queen"], ours["queen"])


def test_cli_rejects_bad_options_before_work(tmp_path, sentences):
    corpus = write_corpus(tmp_path / "c.txt", sentences)
    runner = CliRunner()
    cases = [(["--size", "0"], "--size"), (["--negative", "-1"], "--negative"),
             (["--window", "0"], "--window"), (["--threads", "0"], "--threads"),
             (["--alpha", "0"], "--alpha"), (["--sample", "-1"], "--sample")]
    for extra, name in cases:
        result = runner.invoke(main, ["train", corpus, "-o", str(tmp_path / "v.bin"), *extra])
        assert result.exit_code == 1 and name in result.output, result.output
        assert "Traceback" not in result.output
    result = runner.invoke(main, ["train", corpus, "-o", str(tmp_path / "v.unknown")])
    assert result.exit_code == 1 and "extension" in result.output
    result = runner.invoke(main, ["train", str(tmp_path / "missing.txt"), "-o", str(tmp_path / "v.bin")])
    assert result.exit_code == 1 and "not found" in result.output
    assert not (tmp_path / "v.bin").exists()


def test_cli_resume(tmp_path, sentences):
    corpus = write_corpus(tmp_path / "c.txt", sentences)
    runner = CliRunner()
    r1 = runner.invoke(main, ["train", corpus, "-o", str(tmp_path / "m.w2v"), "--size", "12",
                              "--iter", "1", "-q"])
    assert r1.exit_code == 0, r1.output
    r2 = runner.invoke(main, ["train", corpus, "-o", str(tmp_path / "m2.w2v"), "--resume",
                              str(tmp_path / "m.w2v"), "--iter", "2", "-q"])
    assert r2.exit_code == 0, r2.output
    assert len(w2v.load_model(str(tmp_path / "m2.w2v")).epoch_losses) == 3


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_training_quickly_with_conventional_code(tmp_path, sig, code):
    corpus = write_corpus(tmp_path / "c.txt", generate_sentences(60000, seed=1))
    out = tmp_path / "v.bin"
    proc = subprocess.Popen([sys.executable, "-m", "w2v", "train", corpus, "-o", str(out),
                             "--sg", "--iter", "200", "--threads", "2", "--min-count", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    time.sleep(3.0)
    t0 = time.monotonic()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - t0 < 5
    assert proc.returncode == code, err
    assert b"Traceback" not in err
    assert not out.exists()                         # nothing half-written
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".") or p.endswith(".tmp")]


def test_interrupt_can_save_the_model_trained_so_far(tmp_path):
    corpus = write_corpus(tmp_path / "c.txt", generate_sentences(60000, seed=1))
    out = tmp_path / "v.bin"
    proc = subprocess.Popen([sys.executable, "-m", "w2v", "train", corpus, "-o", str(out),
                             "--sg", "--iter", "200", "--threads", "2", "--min-count", "1",
                             "--save-on-interrupt"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    time.sleep(3.0)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert b"saved the model" in err
    vecs = w2v.load(str(out))
    assert "king" in vecs and np.isfinite(vecs.matrix).all()
