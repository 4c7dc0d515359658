"""Train fastText and save word2vec-binary vectors; word vectors only by default (minn=maxn=0).

Run by bench/bench.py (and bench/subwords.py) as its own process. With maxn=0
the binding sets bucket=0, so the input matrix holds exactly one row per
dictionary word, in the order of ``get_words()``, and those rows are written.
With ``--maxn N`` (N > 0, bench/subwords.py) fastText also learns character
n-grams hashed into ``--bucket`` rows, and each vocabulary word is written as
``get_word_vector(word)``: its own row and its n-grams' rows averaged, the
vector fastText's own ``.vec`` output holds. ``--oov-words FILE --oov-out OUT``
writes those words' ``get_word_vector`` vectors (word2vec text format; a word
with no row and no n-gram, which fastText gives the zero vector, is left out).

The vectors are written with numpy alone (``_vectors.py``), so that importing
gensim does not count against fastText. The last line of stdout is JSON:
seconds training and writing, vocabulary size, OOV words written and missing.
"""
import json
import time

from _args import training_args
from _vectors import buildable, read_word_list, write_word2vec_binary, write_word2vec_text

import fasttext
import fasttext.FastText as fasttext_module
import numpy as np


def seed_next_training(seed: int) -> None:
    """Make the next ``train_unsupervised`` call use ``seed``.

    fastText's C++ trainer takes a seed, but the binding's ``train_unsupervised``
    rejects the keyword (only ``train_supervised`` lists it), so the seed is set on
    the argument object the binding builds."""
    build_args = fasttext_module._build_args

    def with_seed(args, manually_set_args):
        built = build_args(args, manually_set_args)
        built.seed = seed
        return built

    fasttext_module._build_args = with_seed


def main():
    a = training_args()
    seed_next_training(a.seed)
    subwords = a.maxn > 0
    t0 = time.perf_counter()
    model = fasttext.train_unsupervised(
        a.corpus, model="skipgram" if a.sg else "cbow", dim=a.size, ws=a.window,
        neg=a.negative, loss="hs" if a.hs else "ns", epoch=a.epochs, minCount=a.min_count,
        t=a.sample, minn=a.minn if subwords else 0, maxn=a.maxn, bucket=a.bucket,
        thread=a.threads, lr=a.alpha)
    t1 = time.perf_counter()
    got = model.f.getArgs()
    if got.seed != a.seed:
        raise SystemExit(f"fastText trained with seed {got.seed}, not {a.seed}")
    if subwords and (got.minn, got.maxn, got.bucket) != (a.minn, a.maxn, a.bucket):
        raise SystemExit(f"fastText trained with minn={got.minn} maxn={got.maxn} "
                         f"bucket={got.bucket}, not {a.minn}/{a.maxn}/{a.bucket}")
    words = model.get_words(on_unicode_error="replace")
    if subwords:
        vectors = np.empty((len(words), a.size), dtype="<f4")
        for i, word in enumerate(words):
            vectors[i] = model.get_word_vector(word)
    else:
        vectors = np.asarray(model.get_input_matrix(), dtype="<f4")
        if vectors.shape != (len(words), a.size):
            raise SystemExit(f"unexpected input matrix shape {vectors.shape} for "
                             f"{len(words)} words (bucket should be 0 with maxn=0)")
    write_word2vec_binary(a.out, words, vectors)
    report = {"train_seconds": t1 - t0, "vocab_size": len(words)}
    if a.oov_words:
        found, missing = [], []
        for word in read_word_list(a.oov_words):
            vec = model.get_word_vector(word)
            (found if buildable(vec) else missing).append((word, vec))
        write_word2vec_text(a.oov_out, [w for w, _ in found], [v for _, v in found], a.size)
        report.update(oov_written=len(found), oov_missing=[w for w, _ in missing])
    report["write_seconds"] = time.perf_counter() - t1
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
