"""Writing word2vec-format files with numpy alone (no gensim import in the timed drivers).

Binary: ``"<n> <dim>\\n"``, then per word ``word<space><dim little-endian float32>\\n``.
Text: ``"<n> <dim>\\n"``, then per word ``word v1 ... vd\\n`` (9 significant digits, enough
for a float32 to read back exactly).
"""
import numpy as np


def read_word_list(path):
    """The words of a file with one word per line (blank lines ignored, order kept, no repeats)."""
    with open(path, encoding="utf-8") as f:
        return list(dict.fromkeys(line.strip() for line in f if line.strip()))


def write_word2vec_binary(path, words, matrix):
    matrix = np.asarray(matrix, dtype="<f4")
    if matrix.ndim != 2 or matrix.shape[0] != len(words):
        raise ValueError(f"{len(words)} words but a matrix of shape {matrix.shape}")
    with open(path, "wb") as f:
        f.write(f"{len(words)} {matrix.shape[1]}\n".encode())
        for word, row in zip(words, matrix):
            f.write(word.encode("utf-8") + b" " + row.tobytes() + b"\n")


def write_word2vec_text(path, words, vectors, dim):
    """``vectors``: one 1-D array per word (the header needs ``dim`` when there are none)."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{len(words)} {dim}\n")
        for word, vec in zip(words, vectors):
            vec = np.asarray(vec, dtype=np.float32)
            if vec.shape != (dim,):
                raise ValueError(f"the vector of {word!r} has shape {vec.shape}, not ({dim},)")
            f.write(word + " " + " ".join(format(float(x), ".9g") for x in vec) + "\n")


def buildable(vec) -> bool:
    """False for the zero vector fastText and gensim return for a word they have nothing
    for (no vocabulary row and no n-gram), and for non-finite vectors."""
    vec = np.asarray(vec)
    return bool(np.all(np.isfinite(vec)) and np.any(vec != 0))
