"""Write a w2v subword model's vectors in word2vec formats (bench/subwords.py; not timed).

Usage: python w2v_export.py MODEL.w2v --bin OUT.bin [--oov-words FILE --oov-out OUT.txt]

``w2v.load(MODEL)`` gives a :class:`w2v.vectors.Vectors`: ``.words`` is the
vocabulary and ``.vectors`` the (V, d) float32 matrix of composed word vectors
(a word's row and its n-grams' rows), written to ``--bin`` as word2vec binary.
``--oov-words`` lists words one a line; each one's ``vectors[word]`` (for a word
outside the vocabulary, built from its n-grams) goes to ``--oov-out`` as word2vec
text. A word w2v cannot build (``w2v.UnknownWordError``) is left out. The last
line of stdout is JSON: seconds loading and writing, vocabulary size, OOV words
written and missing.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _vectors import buildable, read_word_list, write_word2vec_binary, write_word2vec_text  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--bin", required=True, help="vocabulary vectors, word2vec binary")
    p.add_argument("--oov-words", default=None)
    p.add_argument("--oov-out", default=None)
    a = p.parse_args()
    if (a.oov_words is None) != (a.oov_out is None):
        p.error("--oov-words and --oov-out go together")
    import w2v
    t0 = time.perf_counter()
    v = w2v.load(a.model)
    t1 = time.perf_counter()
    words = list(v.words)
    write_word2vec_binary(a.bin, words, v.vectors)
    report = {"load_seconds": t1 - t0, "vocab_size": len(words), "dim": int(v.vectors.shape[1]),
              "type": type(v).__module__ + "." + type(v).__name__,
              # whether the loaded vectors can build words from n-grams (False: a model file
              # loaded without its n-gram rows, so every OOV word comes back missing)
              "ngrams": getattr(v, "ngrams", None) is not None}
    if a.oov_words:
        found, missing = [], []
        for word in read_word_list(a.oov_words):
            try:
                vec = v[word]
            except w2v.UnknownWordError:
                missing.append(word)
                continue
            if buildable(vec):
                found.append((word, vec))
            else:                      # a zero vector: nothing to measure a cosine with
                missing.append(word)
        write_word2vec_text(a.oov_out, [w for w, _ in found], [x for _, x in found],
                            report["dim"])
        report.update(oov_written=len(found), oov_missing=missing)
    report["write_seconds"] = time.perf_counter() - t1
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
