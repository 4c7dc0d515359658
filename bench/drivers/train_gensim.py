"""Train gensim's Word2Vec on a text file and save word2vec-binary vectors.

Run by bench/bench.py as its own process, so that its wall time and peak RSS
cover everything gensim does (import, vocabulary pass, training, saving).
Logging is left unconfigured, so gensim prints nothing.
"""
import argparse

from gensim.models import Word2Vec


def main():
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
    a = p.parse_args()
    model = Word2Vec(corpus_file=a.corpus, vector_size=a.size, window=a.window, negative=a.negative,
                     hs=a.hs, sample=a.sample, epochs=a.epochs, min_count=a.min_count, alpha=a.alpha,
                     workers=a.threads, sg=a.sg)
    model.wv.save_word2vec_format(a.out, binary=True)


if __name__ == "__main__":
    main()
