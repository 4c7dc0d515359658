"""One error policy for every command.

Deliberate library errors (:class:`w2v.W2VError`), OS errors and MemoryError
become a one-line ``Error: ...`` on stderr with exit status 1; Ctrl-C exits
with 130 and SIGTERM with 143 (after training threads have stopped); a closed
output pipe (``w2v similar ... | head``) ends the command quietly.
"""
from __future__ import annotations

import functools
import os
import signal
import sys

import click

from ..errors import TrainingInterrupted, W2VError


class Terminated(KeyboardInterrupt):
    """Raised in the main thread by the SIGTERM handler (stops training like Ctrl-C)."""


def friendly_errors(func):
    """Turn library errors into one-line messages and conventional exit codes."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        def on_term(signum, frame):
            raise Terminated()
        previous = signal.signal(signal.SIGTERM, on_term)
        try:
            return func(*args, **kwargs)
        except TrainingInterrupted as e:
            terminated = isinstance(e.cause, Terminated)
            click.echo(f"{'Terminated' if terminated else 'Interrupted'}: {e}", err=True)
            sys.exit(143 if terminated else 130)
        except Terminated:
            click.echo("Terminated", err=True)
            sys.exit(143)
        except KeyboardInterrupt:
            click.echo("Interrupted", err=True)
            sys.exit(130)
        except W2VError as e:
            raise click.ClickException(str(e)) from None
        except BrokenPipeError:
            # output piped into e.g. `head`, which stopped reading: not an error
            try:
                sys.stdout = open(os.devnull, "w")
            finally:
                sys.exit(0)
        except MemoryError:
            raise click.ClickException("out of memory") from None
        except OSError as e:
            raise click.ClickException(f"{e.strerror or e}: {e.filename or ''}".rstrip(": ")) from None
        finally:
            signal.signal(signal.SIGTERM, previous)
    return wrapper
