"""Exception types: every failure a user can cause has a specific class.

All derive from :class:`W2VError`, so ``except w2v.W2VError`` catches anything
this package raises on purpose; the CLI turns them into a one-line message and
a non-zero exit.
"""


def shown(value, limit: int = 40) -> str:
    """``repr(value)`` for an error message, cut to about ``limit`` characters. An
    integer too long to print (Python refuses past 4,300 digits) is shown by size."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"an integer of {int(value.bit_length() * 0.30103) + 1:,} digits"
    try:
        text = repr(value)
    except ValueError:                      # e.g. a numpy array of huge Python ints
        return f"a {type(value).__name__}"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def described(value) -> str:
    """The type and the :func:`shown` value, for "expected X, got ..." messages."""
    return f"{type(value).__name__} {shown(value)}"


class W2VError(Exception):
    """Base class of every error w2v raises deliberately."""


class ConfigError(W2VError, ValueError):
    """An impossible or contradictory training option (names the option)."""


class ArgumentError(W2VError, TypeError):
    """A Python API call got an argument of the wrong type (names the argument and
    what it accepts); a ``TypeError`` too, so ``except TypeError`` still works."""


class OutputError(W2VError):
    """An output path cannot be written safely: it is one of the run's inputs or
    another of its outputs, or a kind of file that must not be replaced."""


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


class TrainingDiverged(W2VError):
    """The weights became NaN or infinite during training (the learning rate is too
    high for the data); nothing is returned or saved. Lower ``--alpha``."""


class ClusterError(W2VError):
    """A cluster run failed: a worker died or raised, or the cluster cannot host the run."""


class BuildError(W2VError, ImportError):
    """The compiled core cannot be loaded here: it is not built, or ``W2V_ISA`` forces
    a build this CPU cannot run (see :mod:`w2v.isa`); an ``ImportError`` too."""
