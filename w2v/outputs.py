"""Where output goes: the checks on output paths made before any work, and the
atomic write every output file goes through.

The rules, so that no command can lose data:

* an output may not be one of the run's inputs, nor another of its outputs: the
  same file is recognised through symlinks and hard links (device and inode), and
  by its resolved path when it does not exist yet;
* its folder must exist and be writable, and it must not be a directory;
* a regular file (or a new path) is replaced atomically: a temporary file in the
  same folder, flushed, fsync'd, then renamed over it, so a reader sees the old
  file or the complete new one. A symlink stays a symlink: its target is replaced;
* a character device or a FIFO (``/dev/null``, a named pipe) is written through in
  place: renaming over it would replace the device node itself. A FIFO's write waits
  for a reader, as ``cat > fifo`` does. A path that leads to one of the process's
  open descriptors (``/dev/stdout``, ``/dev/fd/N``) is written through that
  descriptor, whatever it is: a shell's ``> file`` or ``>> log`` is honoured, and a
  pipe stays a pipe;
* any other kind of file (a block device, a socket) is refused.
"""
from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from typing import Iterable, Iterator, Mapping, Optional, Tuple

from .errors import ArgumentError, OutputError, described, shown

__all__ = ["atomic_write", "check_outputs", "output_kind", "as_path"]


def as_path(path, what: str = "path") -> str:
    """``path`` as a str (accepts str, bytes and os.PathLike); :class:`ArgumentError`
    for anything else, naming ``what``."""
    if isinstance(path, bytes):
        return os.fsdecode(path)
    try:
        path = os.fspath(path)
    except TypeError:
        raise ArgumentError(f"{what} must be a file path (str or os.PathLike), "
                            f"got {described(path)}") from None
    if not path:
        raise ArgumentError(f"{what} is an empty string, not a file path")
    if "\0" in path:
        raise ArgumentError(f"{what} {shown(path)} contains a NUL character")
    return path


def _open_descriptor(path: str) -> Optional[int]:
    """The descriptor N when ``path`` leads, through symlinks, to ``/dev/fd/N`` or
    ``/proc/self/fd/N`` (``/dev/stdout`` does): such a path is written through the
    descriptor itself, so a shell's ``>> log`` appends and a pipe stays a pipe."""
    own = (f"/proc/{os.getpid()}/fd/", "/proc/self/fd/", "/dev/fd/")
    for _ in range(40):                          # the kernel's own symlink limit
        absolute = os.path.abspath(path)
        for prefix in own:
            rest = absolute[len(prefix):]
            if absolute.startswith(prefix) and rest.isdigit():
                return int(rest)
        if not os.path.islink(absolute):
            return None
        target = os.readlink(absolute)
        path = os.path.join(os.path.dirname(absolute), target)
    return None


def output_kind(path: str) -> str:
    """What writing ``path`` would meet: 'new', 'file', 'stream' (a character device
    or FIFO, written through), 'directory' or 'other' (refused). Symlinks are
    followed."""
    try:
        mode = os.stat(path).st_mode
    except OSError:                       # missing, or a dangling path component: open() says
        return "new"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return "stream"
    return "other"


def _identity(path: str) -> Tuple:
    """What makes two paths the same file: (device, inode) when it exists, else the
    fully resolved path."""
    try:
        st = os.stat(path)
        return ("inode", st.st_dev, st.st_ino)
    except OSError:
        return ("path", os.path.realpath(path))


def check_outputs(outputs: Mapping[str, Optional[str]], inputs: Mapping[str, Optional[str]] = {},
                  may_replace: Iterable[Tuple[str, str]] = ()) -> None:
    """Check every output path before any work starts; raise :class:`OutputError`
    naming the options involved.

    ``outputs`` and ``inputs`` map an option name (``"--output"``, ``"CORPUS"``)
    to a path or None (not given). ``may_replace`` lists (output, input) pairs where
    writing the output over the input is what the user means (``--resume M
    --save-model M`` updates the model in place; the atomic rename keeps the old file
    whole until the new one is complete)."""
    allowed = set(may_replace)
    given_outputs = [(name, as_path(p, name)) for name, p in outputs.items() if p is not None]
    given_inputs = [(name, as_path(p, name)) for name, p in inputs.items() if p is not None]
    for name, path in given_outputs:
        _check_one_output(name, path)
    for i, (name, path) in enumerate(given_outputs):
        if output_kind(path) == "stream" or _open_descriptor(path) is not None:
            continue                      # writing a device or pipe twice replaces nothing
        me = _identity(path)
        for in_name, in_path in given_inputs:
            if (name, in_name) not in allowed and _identity(in_path) == me:
                raise OutputError(f"{name} {path!r} is the same file as {in_name} {in_path!r}: "
                                  f"writing it would destroy the input; choose another "
                                  f"{name} path")
        for other_name, other_path in given_outputs[:i]:
            if _identity(other_path) == me:
                raise OutputError(f"{name} and {other_name} are the same file ({path!r}): "
                                  f"the second write would replace the first; give two paths")


def _check_one_output(name: str, path: str) -> None:
    if _open_descriptor(path) is not None:
        return                           # an open descriptor (/dev/stdout): written through
    if path.endswith(os.sep) or os.path.basename(path) in ("", ".", ".."):
        raise OutputError(f"{name}: {path!r} names a folder, not a file")
    kind = output_kind(path)
    if kind == "directory":
        raise OutputError(f"{name}: is a directory: {path}")
    if kind == "other":
        raise OutputError(f"{name}: {path} is not a regular file, character device or FIFO "
                          f"(a block device or socket); refusing to write to it")
    if kind == "stream":
        if not os.access(path, os.W_OK):
            raise OutputError(f"{name}: not writable: {path}")
        return
    folder = os.path.dirname(os.path.realpath(path))
    if not os.path.isdir(folder):
        raise OutputError(f"{name}: folder does not exist: {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{name}: folder is not writable: {folder}")


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb", encoding: str = "utf-8") -> Iterator:
    """Open ``path`` for writing under the rules of this module's docstring: a
    temporary file renamed over the (symlink-resolved) target on success, or, for a
    character device or FIFO, the target itself. On any exception the temporary file
    is removed and ``path`` is untouched.

    ``mode`` is ``"wb"`` (binary) or ``"w"`` (text, ``encoding``)."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write: mode must be 'w' or 'wb', got {mode!r}")
    text_options = {"encoding": encoding, "newline": "\n"} if mode == "w" else {}
    path = as_path(path, "output path")
    fd = _open_descriptor(path)
    if fd is not None:                   # /dev/stdout and the like: the open descriptor
        with open(os.dup(fd), mode, **text_options) as f:
            yield f
        return
    _check_one_output("output", path)
    target = os.path.realpath(path)      # a symlink's target is written, the link kept
    if output_kind(target) == "stream":
        with open(target, mode, **text_options) as f:
            yield f
        return
    folder = os.path.dirname(target)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(target) + ".",
                               suffix=".tmp")
    try:
        f = os.fdopen(fd, mode, **text_options)
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    try:
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _new_file_mode(target))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def _new_file_mode(path: str) -> int:
    """Permissions for the final file: those of the file replaced, else 0666 & ~umask
    (mkstemp creates 0600)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        pass
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o644


def _fsync_folder(folder: str) -> None:
    """Make the rename durable (best effort; not possible on every platform)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
