"""NaN and infinity checks over large, possibly memory-mapped, matrices: in chunks, with
no temporary the size of the matrix. Used by the readers (w2v.io), the query side
(w2v.vectors) and the divergence check (w2v.engine)."""
from __future__ import annotations

import math
from typing import Optional

import numpy as np


def first_non_finite_row(a: np.ndarray, chunk_rows: int = 65536) -> Optional[int]:
    """The first row of ``a`` holding a NaN or infinity, or None; in chunks, without a
    full-size temporary (min/max propagate NaN, so a clean chunk costs two reductions)."""
    if a.size == 0:
        return None
    for s in range(0, a.shape[0], chunk_rows):
        c = np.asarray(a[s:s + chunk_rows])
        if not (math.isfinite(float(c.min())) and math.isfinite(float(c.max()))):
            return s + int(np.flatnonzero(~np.isfinite(c.reshape(len(c), -1)).all(axis=1))[0])
    return None


def all_finite(a: np.ndarray) -> bool:
    """No NaN or infinity anywhere in ``a`` (see :func:`first_non_finite_row`)."""
    return first_non_finite_row(a) is None
