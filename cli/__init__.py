"""The ``w2v`` command line (installed as the subpackage ``w2v.cli``)."""
