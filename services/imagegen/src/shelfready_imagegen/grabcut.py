"""OpenCV GrabCut in mask mode, the one way the cut-out calls it."""

from __future__ import annotations

import cv2
import numpy as np


def grabcut_foreground(rgb: np.ndarray, labels: np.ndarray, iterations: int) -> np.ndarray:
    """Run GrabCut on `rgb` seeded by `labels` (cv2.GC_* per pixel, updated in place) and
    return the pixels it calls foreground (bool). Raises cv2.error when the labels hold a
    single class, which callers answer with their own fallback."""
    bgd_model = np.zeros((1, 65), np.float64)
    fgd_model = np.zeros((1, 65), np.float64)
    cv2.grabCut(  # type: ignore[call-overload]  # rect is None in mask mode
        cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR),
        labels,
        None,
        bgd_model,
        fgd_model,
        iterations,
        cv2.GC_INIT_WITH_MASK,
    )
    return np.asarray((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD))
