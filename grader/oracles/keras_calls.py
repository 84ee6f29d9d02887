"""What the checks ask of Keras and TensorFlow, answered in a worker of their own.

The grader never imports TensorFlow: its checks call
``student.framework(name, *args)``, which runs :func:`call` in a trusted
worker forked from the server that has imported TensorFlow (no student code
is loaded there), or in this process where there is no fork server. Every
function takes and returns plain data (NumPy arrays, numbers, tuples).

* :func:`compute_fans`: ``keras.src.initializers.random_initializers.compute_fans``.
* :func:`variance_scaling`: ``calls`` draws of ``keras.initializers.VarianceScaling``
  of ``shape`` in float64, seeded ``seed, seed + 1, ...``, concatenated.
* :func:`batchnorm`: ``keras.layers.BatchNormalization`` (channels last) with the
  given weights: its training output, moving statistics after the step, and its
  inference output with those statistics.
* :func:`clip_by_global_norm`: ``tf.clip_by_global_norm`` in float64.
"""
from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

__all__ = ["call", "compute_fans", "variance_scaling", "batchnorm", "clip_by_global_norm",
           "FUNCTIONS"]


def compute_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    from keras.src.initializers.random_initializers import compute_fans as keras_fans

    fan_in, fan_out = keras_fans(tuple(int(d) for d in shape))
    return int(fan_in), int(fan_out)


def variance_scaling(scale: float, mode: str, distribution: str, shape: tuple[int, ...],
                     seed: int, calls: int = 1) -> np.ndarray:
    import keras

    parts = []
    for i in range(int(calls)):
        init = keras.initializers.VarianceScaling(scale=scale, mode=mode,
                                                  distribution=distribution, seed=int(seed) + i)
        parts.append(np.asarray(keras.ops.convert_to_numpy(init(tuple(shape), "float64")),
                                dtype=np.float64).ravel())
    return np.concatenate(parts)


def batchnorm(x_last: np.ndarray, gamma: np.ndarray, beta: np.ndarray, mean: np.ndarray,
              var: np.ndarray, momentum: float, eps: float) -> tuple[np.ndarray, ...]:
    """(training output, moving mean, moving variance, inference output); ``momentum`` is
    this assignment's (Keras' is ``1 - momentum``)."""
    import keras

    layer = keras.layers.BatchNormalization(axis=-1, momentum=1.0 - momentum, epsilon=eps,
                                            dtype="float64")
    layer.build(x_last.shape)
    layer.set_weights([gamma, beta, mean, var])
    train = np.asarray(layer(x_last, training=True), dtype=np.float64)
    moving_mean = np.asarray(layer.moving_mean, dtype=np.float64)
    moving_var = np.asarray(layer.moving_variance, dtype=np.float64)
    infer = np.asarray(layer(x_last, training=False), dtype=np.float64)
    return train, moving_mean, moving_var, infer


def clip_by_global_norm(grads: list[np.ndarray], max_norm: float):
    """(the clipped arrays, the global norm) from ``tf.clip_by_global_norm``."""
    import tensorflow as tf

    clipped, total = tf.clip_by_global_norm([tf.constant(a) for a in grads], max_norm)
    return [np.asarray(c, dtype=np.float64) for c in clipped], float(total)


FUNCTIONS = {"compute_fans": compute_fans, "variance_scaling": variance_scaling,
             "batchnorm": batchnorm, "clip_by_global_norm": clip_by_global_norm}


def call(name: str, *args, **kwargs):
    """``FUNCTIONS[name](*args, **kwargs)``: the one entry point of the worker."""
    return FUNCTIONS[name](*args, **kwargs)


import keras  # noqa: E402, F401 - loaded with this module: in the server, before any fork
