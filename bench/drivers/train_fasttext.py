"""Train fastText (word vectors only: minn=maxn=0) and save word2vec-binary vectors.

Run by bench/bench.py as its own process. With maxn=0 the binding sets
bucket=0, so the input matrix holds exactly one row per dictionary word, in
the order of ``get_words()``. The vectors are written in the word2vec binary
layout (``"<n> <dim>\\n"`` then ``word<space><dim float32>\\n`` per word) with
numpy alone, so that importing gensim does not count against fastText.
"""
from _args import training_args

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
    model = fasttext.train_unsupervised(
        a.corpus, model="skipgram" if a.sg else "cbow", dim=a.size, ws=a.window,
        neg=a.negative, loss="hs" if a.hs else "ns", epoch=a.epochs, minCount=a.min_count,
        t=a.sample, minn=0, maxn=0, thread=a.threads, lr=a.alpha)
    if model.f.getArgs().seed != a.seed:
        raise SystemExit(f"fastText trained with seed {model.f.getArgs().seed}, not {a.seed}")
    words = model.get_words(on_unicode_error="replace")
    input_vectors = np.asarray(model.get_input_matrix(), dtype="<f4")
    if input_vectors.shape != (len(words), a.size):
        raise SystemExit(f"unexpected input matrix shape {input_vectors.shape} for "
                         f"{len(words)} words (bucket should be 0 with maxn=0)")
    with open(a.out, "wb") as f:
        f.write(f"{len(words)} {a.size}\n".encode())
        for word, row in zip(words, input_vectors):
            f.write(word.encode("utf-8") + b" " + row.tobytes() + b"\n")


if __name__ == "__main__":
    main()
