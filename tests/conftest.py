"""Shared fixtures: generated corpora (always available) and the real corpus
(skipped with a reason when ../shared/data is absent, e.g. in a fresh clone)."""
from pathlib import Path

import pytest

from w2v.demo import generate_sentences

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SMALL_CORPUS = SHARED_DATA / "corpus" / "small.txt"
EVAL_DIR = SHARED_DATA / "eval"


def write_lines(path, sentences):
    with open(path, "w", encoding="utf-8") as f:
        for s in sentences:
            f.write(" ".join(s) + "\n")
    return str(path)


@pytest.fixture(scope="session")
def planted_corpus(tmp_path_factory):
    """The demo's planted corpus (40k sentences, ~500k tokens)."""
    path = tmp_path_factory.mktemp("planted") / "planted.txt"
    return write_lines(path, generate_sentences(40000, seed=0))


@pytest.fixture(scope="session")
def small_corpus():
    if not SMALL_CORPUS.exists():
        pytest.skip(f"real corpus not available ({SMALL_CORPUS} is absent: needs ../shared/data)")
    return str(SMALL_CORPUS)


@pytest.fixture(scope="session")
def eval_dir():
    if not EVAL_DIR.exists():
        pytest.skip(f"evaluation sets not available ({EVAL_DIR} is absent: needs ../shared/data)")
    return EVAL_DIR
