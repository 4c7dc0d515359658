"""Train gensim's Word2Vec (or, with ``--maxn N > 0``, its FastText) on a text file and save
word2vec-binary vectors.

Run by bench/bench.py (and bench/subwords.py) as its own process, so that its
wall time and peak RSS cover everything gensim does (import, vocabulary pass,
training, saving). Logging is left unconfigured, so gensim prints nothing, unless
W2V_BENCH_GENSIM_LOG=1 is set (gensim's INFO log: which phase it is in, for runs stopped
early by bench/bounded_memory.py --anchor-stop-after).

With subwords (``--minn --maxn --bucket``), ``gensim.models.FastText`` trains
with the same options from ``corpus_file``; ``model.wv``'s vocabulary vectors
(word row and n-gram rows averaged, as fastText composes them) are written.
``--oov-words FILE --oov-out OUT`` writes ``model.wv[word]`` of those words in
word2vec text format (a word gensim has no vector for is left out). The last line
of stdout is JSON: seconds training and writing, vocabulary size, OOV words
written and missing.
"""
import json
import logging
import os
import time

from _args import training_args
from _vectors import buildable, read_word_list, write_word2vec_text

from gensim.models import FastText, Word2Vec


def main():
    a = training_args()
    if os.environ.get("W2V_BENCH_GENSIM_LOG") == "1":
        logging.basicConfig(format="%(asctime)s %(message)s", level=logging.INFO)
    common = dict(corpus_file=a.corpus, vector_size=a.size, window=a.window, negative=a.negative,
                  hs=a.hs, sample=a.sample, epochs=a.epochs, min_count=a.min_count, alpha=a.alpha,
                  workers=a.threads, sg=a.sg, seed=a.seed)
    t0 = time.perf_counter()
    if a.maxn > 0:
        model = FastText(min_n=a.minn, max_n=a.maxn, bucket=a.bucket, **common)
    else:
        model = Word2Vec(**common)
    t1 = time.perf_counter()
    model.wv.save_word2vec_format(a.out, binary=True)
    report = {"train_seconds": t1 - t0, "vocab_size": len(model.wv.index_to_key)}
    if a.oov_words:
        found, missing = [], []
        for word in read_word_list(a.oov_words):
            try:
                vec = model.wv[word]
            except KeyError:
                missing.append(word)
                continue
            if buildable(vec):
                found.append((word, vec))
            else:
                missing.append(word)
        write_word2vec_text(a.oov_out, [w for w, _ in found], [v for _, v in found], a.size)
        report.update(oov_written=len(found), oov_missing=missing)
    report["write_seconds"] = time.perf_counter() - t1
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
