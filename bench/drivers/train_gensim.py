"""Train gensim's Word2Vec on a text file and save word2vec-binary vectors.

Run by bench/bench.py as its own process, so that its wall time and peak RSS
cover everything gensim does (import, vocabulary pass, training, saving).
Logging is left unconfigured, so gensim prints nothing.
"""
from _args import training_args

from gensim.models import Word2Vec


def main():
    a = training_args()
    model = Word2Vec(corpus_file=a.corpus, vector_size=a.size, window=a.window, negative=a.negative,
                     hs=a.hs, sample=a.sample, epochs=a.epochs, min_count=a.min_count, alpha=a.alpha,
                     workers=a.threads, sg=a.sg, seed=a.seed)
    model.wv.save_word2vec_format(a.out, binary=True)


if __name__ == "__main__":
    main()
