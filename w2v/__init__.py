"""w2v: a fast, safe word2vec engine (CBOW / skip-gram, negative sampling / hierarchical softmax).

Quick use::

    import w2v
    model = w2v.train("corpus.txt", sg=True, size=100, threads=4)
    model.save("vectors.bin")
    vecs = w2v.load("vectors.bin")
    vecs.most_similar("king")

Heavy modules (the compiled core) are imported on first use, so ``import w2v``
stays cheap for query-only scripts.
"""
from . import isa as _isa
from .config import TrainConfig
from .errors import (ArgumentError, BuildError, ClusterError, ConfigError, CorpusError,
                     FormatError, OutputError, TrainingDiverged, TrainingInterrupted,
                     UnknownWordError, W2VError)

# ``w2v._core`` resolves to the build of the core this CPU runs best (w2v/isa.py).
_isa.install()

__version__ = "0.1.0"

__all__ = ["train", "resume", "load", "load_model", "find_phrases", "Phrases", "word_classes",
           "TrainConfig", "W2VError", "ConfigError", "ArgumentError", "OutputError",
           "CorpusError", "FormatError", "UnknownWordError", "TrainingInterrupted",
           "TrainingDiverged", "ClusterError", "BuildError",
           "__version__"]


def train(corpus, **options):
    """Train word vectors on ``corpus``; see :func:`w2v.trainer.train`."""
    from .trainer import train as _train
    return _train(corpus, **options)


def resume(model, corpus, **options):
    """Continue training a model or ``.w2v`` file on more text; see :func:`w2v.trainer.resume`."""
    from .trainer import resume as _resume
    return _resume(model, corpus, **options)


def load(path, **options):
    """Load vectors from any supported format; see :func:`w2v.io.load`."""
    from .io import load as _load
    return _load(path, **options)


def load_model(path, **options):
    """Load a full model (for continued training); see :func:`w2v.io.load_model`."""
    from .io import load_model as _load_model
    return _load_model(path, **options)


def find_phrases(corpus, output=None, **options):
    """Learn phrases (``new_york``) from ``corpus`` and optionally write the joined
    corpus to ``output``; returns a :class:`w2v.phrases.Phrases`. See
    :func:`w2v.phrases.phrases`."""
    from .phrases import phrases as _phrases
    return _phrases(corpus, output, **options)


def word_classes(vectors, k, **options):
    """k-means word classes: one class id per word; see :func:`w2v.classes.classes`."""
    from .classes import classes as _classes
    return _classes(vectors, k, **options)


#: Submodules reachable as ``w2v.NAME`` without importing them first.
_SUBMODULES = ("classes", "cluster", "config", "corpus", "demo", "errors", "evaluate", "io",
               "isa", "model", "outputs", "phrases", "progress", "rowsync", "tables", "trainer",
               "vectors", "vocab")


def __getattr__(name):
    if name == "Phrases":            # imported on first use (it loads compiled code)
        from .phrases import Phrases
        return Phrases
    if name in ("Vectors", "Model"):
        from .model import Model
        from .vectors import Vectors
        return {"Vectors": Vectors, "Model": Model}[name]
    if name in _SUBMODULES:
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'w2v' has no attribute {name!r}")
