"""The training options every driver takes (the same for all tools)."""
import argparse


def training_args():
    """Parse --corpus, --out and the shared hyperparameters from the command line."""
    p = argparse.ArgumentParser()
    p.add_argument("--corpus", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--sg", type=int, required=True)
    p.add_argument("--hs", type=int, required=True)
    p.add_argument("--negative", type=int, required=True)
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--window", type=int, required=True)
    p.add_argument("--sample", type=float, required=True)
    p.add_argument("--min-count", type=int, required=True)
    p.add_argument("--epochs", type=int, required=True)
    p.add_argument("--alpha", type=float, required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--seed", type=int, default=1)
    # subwords (bench/subwords.py); the defaults train plain word vectors, as bench/bench.py wants
    p.add_argument("--minn", type=int, default=0, help="shortest character n-gram (with --maxn > 0)")
    p.add_argument("--maxn", type=int, default=0, help="longest character n-gram; 0: no subwords")
    p.add_argument("--bucket", type=int, default=2000000, help="n-gram hash buckets (with --maxn > 0)")
    p.add_argument("--oov-words", default=None,
                   help="after training, write the vectors of these words (one a line) ...")
    p.add_argument("--oov-out", default=None,
                   help="... to this file, word2vec text format; words with no vector are left out")
    a = p.parse_args()
    if (a.oov_words is None) != (a.oov_out is None):
        p.error("--oov-words and --oov-out go together")
    if a.maxn > 0 and not 0 < a.minn <= a.maxn:
        p.error(f"--minn must be in 1..--maxn, got --minn {a.minn} --maxn {a.maxn}")
    return a
