"""Learn gensim Phrases from a text file and write the file with the phrases joined.

Run by bench/phrases_speed.py in its own process, so that its wall time and peak
RSS cover everything (import, counting, freezing, applying, writing). Lines are
read whole (``LineSentence`` with no length cap), so a phrase never spans two
lines and no line is split, as for word2phrase and w2v. Prints one JSON line:
seconds to learn and to apply, and the number of phrases.
"""
import argparse
import json
import sys
import time

from gensim.models.phrases import Phrases
from gensim.models.word2vec import LineSentence


def main():
    p = argparse.ArgumentParser()
    p.add_argument("corpus")
    p.add_argument("output")
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--threshold", type=float, default=100.0)
    a = p.parse_args()
    t0 = time.perf_counter()
    sentences = LineSentence(a.corpus, max_sentence_length=sys.maxsize)
    frozen = Phrases(sentences, min_count=a.min_count, threshold=a.threshold).freeze()
    t1 = time.perf_counter()
    with open(a.output, "w", encoding="utf-8") as f:
        for sentence in sentences:
            f.write(" ".join(frozen[sentence]) + "\n")
    t2 = time.perf_counter()
    print(json.dumps({"learn_seconds": t1 - t0, "apply_seconds": t2 - t1,
                      "phrases": len(frozen.phrasegrams)}))


if __name__ == "__main__":
    main()
