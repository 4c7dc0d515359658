"""Which build of the training core this CPU runs: instruction-set dispatch.

The hot kernels (:mod:`w2v._core`) are compiled once per instruction-set level
(setup.py builds every level of :data:`X86_LEVELS` on x86-64) into
``w2v/_isa/<level>/_core.*.so``. When something imports ``w2v._core``, the
:class:`CoreFinder` that ``import w2v`` puts on ``sys.meta_path`` loads the best
level this CPU can run (:func:`select`), under the name ``w2v._core`` itself, so
every ``from w2v import _core`` gets the dispatched build. That is how a wheel
built anywhere runs everywhere and still uses AVX2/FMA or AVX-512 where they
exist (numpy and simsimd dispatch per function; one choice per process is
enough here because every kernel lives in one module).

``W2V_ISA=<level>`` forces a level (tests, benchmarks, profiling with valgrind,
which cannot run AVX-512); ``W2V_ISA=auto`` or unset picks. A forced level that
was not built or that this CPU cannot run is refused (:class:`w2v.BuildError`)
rather than left to die with "illegal instruction".

setup.py reads :data:`X86_LEVELS` from this file without importing the
package, so this module imports nothing of w2v at the top.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from dataclasses import dataclass

__all__ = ["Level", "X86_LEVELS", "NATIVE", "GENERIC", "ENV", "build_switch", "levels_to_build",
           "built_levels", "cpu_features", "select", "build_info", "CoreFinder", "install"]


@dataclass(frozen=True)
class Level:
    """One build of the core: its compiler flags and the CPU features that code may use."""
    name: str
    flags: tuple      # added to the common flags (setup.py) for this level's build
    needs: tuple      # features (:data:`w2v._cpu.X86_FEATURES`) the CPU must report
    about: str


_X86 = ("-march=x86-64", "-mtune=generic")
#: The x86-64 levels, best first. Each names exactly the features it enables (no
#: ``-march=x86-64-v3``, which would also allow BMI/LZCNT/MOVBE that :func:`select`
#: does not check), on top of plain x86-64, so the check and the code agree.
X86_LEVELS = (
    Level("avx512", _X86 + ("-mavx2", "-mfma", "-mavx512f", "-mavx512cd", "-mavx512bw",
                            "-mavx512dq", "-mavx512vl"),
          ("avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"),
          "AVX-512 F/CD/BW/DQ/VL + AVX2 + FMA (Skylake-SP, Ice Lake, Zen 4 and later)"),
    Level("avx2", _X86 + ("-mavx2", "-mfma"), ("avx", "avx2", "fma"),
          "AVX2 + FMA (Haswell, Zen and later)"),
    Level("baseline", _X86, (), "SSE2 only, which every x86-64 CPU has"),
)
#: ``W2V_NATIVE=1``: one build for the machine that compiles it (what the default was
#: before dispatch); it runs on that CPU and is not checked.
NATIVE = Level("native", ("-march=native",), (), "the CPU that built it (W2V_NATIVE=1)")
#: Other architectures (aarch64 ...) and MSVC: one build, the compiler's default target.
GENERIC = Level("generic", (), (), "the compiler's default target for this architecture")
ALL_LEVELS = X86_LEVELS + (NATIVE, GENERIC)
ENV = "W2V_ISA"

_HERE = os.path.dirname(os.path.abspath(__file__))


def build_switch(environ, name: str) -> bool:
    """Whether a build switch (``W2V_NATIVE``, ``W2V_PORTABLE``, ``W2V_DEBUG``) is on."""
    return environ.get(name, "") not in ("", "0")


def levels_to_build(machine: str, msvc: bool, environ) -> list:
    """The levels setup.py compiles the core for, best first, given the target machine
    (``platform.machine()``), whether the compiler is MSVC, and the build switches
    (:func:`build_switch`; see setup.py)."""
    if build_switch(environ, "W2V_NATIVE") and not msvc:
        return [NATIVE]
    if msvc or machine.lower() not in ("x86_64", "amd64"):
        return [GENERIC]          # aarch64 and others: the compiler's default target
    if build_switch(environ, "W2V_DEBUG") or build_switch(environ, "W2V_PORTABLE"):
        return [X86_LEVELS[-1]]
    return list(X86_LEVELS)


def _refuse(message: str):
    from .errors import BuildError          # here, not at the top: setup.py reads this file alone
    raise BuildError(message)


def core_file(name: str) -> str | None:
    """The compiled core of level ``name`` in this installation, or None if not built."""
    folder = os.path.join(_HERE, "_isa", name)
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(folder, "_core" + suffix)
        if os.path.isfile(path):
            return path
    return None


def built_levels() -> list:
    """The levels this installation holds a build of, best first."""
    return [level for level in ALL_LEVELS if core_file(level.name)]


def cpu_features() -> dict:
    """``{feature: bool}`` as the running CPU and OS report them (empty off x86)."""
    from . import _cpu
    return _cpu.features()


def runs_here(level: Level, features: dict) -> bool:
    return all(features.get(name, False) for name in level.needs)


def select(environ=None, features=None, built=None) -> Level:
    """The level to load: ``W2V_ISA`` if set (checked), else the best built one this CPU runs."""
    environ = os.environ if environ is None else environ
    built = built_levels() if built is None else built
    if not built:
        _refuse(f"w2v's compiled core is not built (nothing in {os.path.join(_HERE, '_isa')}): "
                "install with `pip install .`, or in a source checkout run "
                "`python setup.py build_ext --inplace`")
    features = cpu_features() if features is None else features
    forced = environ.get(ENV, "").strip().lower()
    if forced and forced != "auto":
        names = [level.name for level in built]
        level = next((lv for lv in built if lv.name == forced), None)
        if level is None:
            _refuse(f"{ENV}={forced}: no such build here (built: {', '.join(names)}; or 'auto')")
        missing = [f for f in level.needs if not features.get(f, False)]
        if missing:
            _refuse(f"{ENV}={forced}: this CPU lacks {', '.join(missing)} "
                    f"(it can run: {', '.join(lv.name for lv in built if runs_here(lv, features))})")
        return level
    for level in built:
        if runs_here(level, features):
            return level
    _refuse("no build of w2v's core runs on this CPU (built: "
            f"{', '.join(lv.name for lv in built)}); reinstall from source with `pip install .`")


def build_info() -> dict:
    """What ``w2v info --build`` prints: the level loaded, why, and what else is here."""
    built, features = built_levels(), cpu_features()
    level = select(features=features, built=built)
    return {
        "selected": level.name,
        "about": level.about,
        "forced": os.environ.get(ENV, "") or None,
        "core": core_file(level.name),
        "flags": list(level.flags),
        "built": [lv.name for lv in built],
        "runnable": [lv.name for lv in built if runs_here(lv, features)],
        "cpu_features": features,
        "machine": _machine(),
    }


def _machine() -> str:
    import platform
    return platform.machine()


class CoreFinder:
    """Finds ``w2v._core`` as the build :func:`select` picks (a ``sys.meta_path`` entry)."""

    NAME = "w2v._core"

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if fullname != cls.NAME:
            return None
        return importlib.util.spec_from_file_location(cls.NAME, core_file(select().name))

    @classmethod
    def invalidate_caches(cls):
        pass


def install() -> None:
    """Put :class:`CoreFinder` first on ``sys.meta_path`` (once). Loads nothing yet."""
    if CoreFinder not in sys.meta_path:
        sys.meta_path.insert(0, CoreFinder)
