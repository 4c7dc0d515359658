"""The result of training: vocabulary, counts, all weight matrices and the history.

``Model.wv`` is the query-side :class:`w2v.vectors.Vectors` view of the input
vectors; ``Model.save`` writes any supported format (the format follows the
file extension unless given).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

import numpy as np

from .config import TrainConfig
from .subwords import NgramVectors, Scheme, word_vectors
from .vectors import Vectors


@dataclass(frozen=True)
class OutputLayer:
    """One output layer's weight matrix: its name (the :class:`Model` attribute and
    the model-file block), whether a config trains it, its rows for a vocabulary of
    ``V`` words, whether they are one per word in vocabulary order (a grown vocabulary
    keeps them; otherwise they are the Huffman tree's nodes, which a new tree
    renumbers), and whether its most-written rows are its last ones (the Huffman
    root), which the cluster's row sync needs. The compiled core takes the layers'
    matrices in this order after the input vectors."""
    name: str
    used: Callable[[TrainConfig], bool]
    rows: Callable[[int], int]
    per_word: bool = True
    hot_last: bool = False


OUTPUT_LAYERS = (
    OutputLayer("output_ns", lambda c: c.negative > 0, lambda v: v),
    OutputLayer("output_hs", lambda c: c.hs, lambda v: max(v - 1, 0), per_word=False,
                hot_last=True),
)


class Model:
    """A trained (or loaded) word2vec model.

    Attributes
    ----------
    config : TrainConfig        the settings it was trained with
    words : list[str]           vocabulary, most frequent first (ties by word)
    counts : int64 array        corpus count of each word
    input_vectors : float32 (V, size)   the word vectors (classic ``syn0``)
    output_ns : float32 (V, size) or None     negative-sampling output weights (``syn1neg``)
    output_hs : float32 (V-1, size) or None   Huffman inner-node weights (``syn1``)
    ngram_vectors : float32 (buckets, size) or None   character n-gram rows (subwords on;
                                we call the word's own rows input_vectors, fastText keeps
                                both in one input matrix)
    epoch_losses : list[float]  mean training loss per example, one per epoch
    history : list[dict]        per-epoch records (loss, seconds, words, alpha range)
    """

    def __init__(self, config: TrainConfig, words: List[str], counts: np.ndarray,
                 input_vectors: np.ndarray, output_ns: Optional[np.ndarray] = None,
                 output_hs: Optional[np.ndarray] = None, epoch_losses=None, history=None,
                 ngram_vectors: Optional[np.ndarray] = None):
        self.config = config
        self.words = list(words)
        self.counts = np.asarray(counts, dtype=np.int64)
        self.input_vectors = input_vectors
        self.output_ns = output_ns
        self.output_hs = output_hs
        self.ngram_vectors = ngram_vectors
        self.epoch_losses = list(epoch_losses or [])
        self.history = list(history or [])
        self._wv = None

    @property
    def vectors(self) -> np.ndarray:
        """The word vectors, float32, one row per word of :attr:`words`: with subwords,
        each word's own row averaged with its n-gram rows (as training formed it)."""
        return self.wv.matrix

    @property
    def wv(self):
        """Query API over the word vectors (most_similar, analogies, ...); with subwords
        it answers words outside the vocabulary from their n-grams."""
        if self._wv is None:
            if self.ngram_vectors is None:
                self._wv = Vectors(self.words, self.input_vectors, counts=self.counts)
            else:
                scheme = Scheme.of(self.config)
                composed = word_vectors(scheme, self.words, self.input_vectors,
                                        self.ngram_vectors)
                self._wv = Vectors(self.words, composed, counts=self.counts,
                                   ngrams=NgramVectors(scheme, self.ngram_vectors))
        return self._wv

    @property
    def weights(self) -> Dict[str, Optional[np.ndarray]]:
        """Every weight matrix by name, the core's ``weights`` (None where not trained)."""
        return {"input_vectors": self.input_vectors, "ngram_vectors": self.ngram_vectors,
                **self.outputs}

    @property
    def outputs(self) -> Dict[str, Optional[np.ndarray]]:
        """Every output layer's matrix by name (None where the layer was not trained)."""
        return {layer.name: getattr(self, layer.name) for layer in OUTPUT_LAYERS}

    @property
    def matrices(self) -> List[Optional[np.ndarray]]:
        """The input vectors and every output layer's matrix, in the core's order."""
        return [self.input_vectors] + list(self.outputs.values())

    def __len__(self) -> int:
        return len(self.words)

    def __repr__(self) -> str:
        return (f"<w2v.Model {self.config.mode} vocab={len(self.words)} "
                f"size={self.input_vectors.shape[1]} epochs={len(self.epoch_losses)}>")

    def save(self, path, format: Optional[str] = None) -> None:
        """Write the model; ``format`` in {'bin', 'txt', 'model'} or from the extension
        (``.bin`` word2vec binary, ``.txt``/``.vec`` word2vec text, ``.w2v`` our model file)."""
        from . import io             # w2v.io builds this module's objects: it imports it
        io.save(path, self, format=format)
