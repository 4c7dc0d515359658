"""Build the Cython extensions.

By default the extensions are optimised for the building machine
(``-O3 -march=native``). Set ``W2V_PORTABLE=1`` for a build that runs on any
x86-64/arm64 CPU (e.g. wheels), and ``W2V_DEBUG=1`` to turn Cython's bounds
checks back on and compile with ``-O0 -g``.
"""
import os
import sys

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

portable = os.environ.get("W2V_PORTABLE", "") not in ("", "0")
debug = os.environ.get("W2V_DEBUG", "") not in ("", "0")

if sys.platform == "win32":
    compile_args = ["/O2"]
elif debug:
    compile_args = ["-O0", "-g"]
else:
    # -ffast-math lets the compiler vectorise the dot-product reductions; we keep
    # IEEE infinities/NaN semantics (-fno-finite-math-only) so checks still work.
    compile_args = ["-O3", "-ffast-math", "-fno-finite-math-only", "-funroll-loops"]
    if not portable:
        compile_args.append("-march=native")

directives = {
    "language_level": 3,
    "boundscheck": debug,
    "wraparound": debug,
    "cdivision": True,
    "initializedcheck": debug,
    "embedsignature": True,
}

extensions = [
    Extension(name, [path], include_dirs=[numpy.get_include()],
              extra_compile_args=compile_args,
              define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")])
    for name, path in (("w2v._core", "w2v/_core.pyx"), ("w2v._text", "w2v/_text.pyx"),
                       ("w2v._phrases", "w2v/_phrases.pyx"), ("w2v._subwords", "w2v/_subwords.pyx"))
]

setup(ext_modules=cythonize(extensions, compiler_directives=directives))
