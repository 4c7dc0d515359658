"""Exception types: every failure a user can cause has a specific class.

All derive from :class:`W2VError`, so ``except w2v.W2VError`` catches anything
this package raises on purpose; the CLI turns them into a one-line message and
a non-zero exit.
"""


class W2VError(Exception):
    """Base class of every error w2v raises deliberately."""


class ConfigError(W2VError, ValueError):
    """An impossible or contradictory training option (names the option)."""


class CorpusError(W2VError):
    """The corpus cannot be read or yields nothing to train on."""


class FormatError(W2VError):
    """A vector or model file is truncated, corrupt or of an unknown format."""


class UnknownWordError(W2VError, KeyError):
    """One or more words are not in the vocabulary; ``.words`` lists them all."""

    def __init__(self, words):
        self.words = list(words)
        super().__init__(self.words)

    def __str__(self):
        return "not in vocabulary: " + ", ".join(repr(w) for w in self.words)


class TrainingInterrupted(W2VError):
    """Training was stopped (Ctrl-C or SIGTERM) before it finished.

    ``.model`` holds the model with the weights trained so far."""

    def __init__(self, message, model=None, cause=None):
        super().__init__(message)
        self.model = model
        self.cause = cause      # the KeyboardInterrupt (or subclass) that stopped training


class ClusterError(W2VError):
    """A cluster run failed: a worker died or raised, or the cluster cannot host the run."""
