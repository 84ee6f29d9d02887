"""Turn a student's framework model into plain data, inside the worker.

The grader never receives a live torch or Keras object: these extractors run
in the worker, right after the student's ``build_*_model`` returns, and report
the layers (found by type, not by index), their weights as float64 arrays and
the model's output on a fixed probe batch, so that the grader can verify the
architecture (including activations applied in a custom ``forward``) from
plain numbers. torch and keras are imported here only when the student's
model is of that kind.
"""
from __future__ import annotations

import numpy as np

__all__ = ["EXTRACTORS", "probe_batch"]


def probe_batch() -> np.ndarray:
    """A fixed (8, 100) input batch, the same in the worker and the grader."""
    return np.random.default_rng(20260101).standard_normal((8, 100))


def _torch_model(model) -> dict:
    import torch

    if not isinstance(model, torch.nn.Module):
        return {"error": f"expected a torch.nn.Module, got {type(model).__qualname__}"}
    layers = []
    for name, module in model.named_modules():
        if list(module.children()):
            continue  # containers: only leaves are layers
        entry = {"name": name, "type": type(module).__name__}
        if isinstance(module, torch.nn.Linear):
            entry["in_features"] = int(module.in_features)
            entry["out_features"] = int(module.out_features)
            entry["weight"] = module.weight.detach().to(torch.float64).cpu().numpy().copy()
            entry["bias"] = (
                None if module.bias is None
                else module.bias.detach().to(torch.float64).cpu().numpy().copy()
            )
        layers.append(entry)
    n_params = int(sum(p.numel() for p in model.parameters()))
    try:
        with torch.no_grad():
            x = torch.from_numpy(probe_batch()).to(next(model.parameters()).dtype)
            out = model(x)
        probe = out.detach().to(torch.float64).cpu().numpy().copy()
        probe_error = ""
    except Exception as exc:  # noqa: BLE001 - the student's forward may fail
        probe, probe_error = None, f"{type(exc).__name__}: {exc}"[:500]
    return {"framework": "torch", "class": type(model).__name__, "layers": layers,
            "n_params": n_params, "probe": probe, "probe_error": probe_error}


def _keras_model(model) -> dict:
    import keras

    if not isinstance(model, keras.Model):
        return {"error": f"expected a keras.Model, got {type(model).__qualname__}"}
    if not model.built:
        return {"error": "the model is not built (it has no weights yet): start it with "
                         "keras.Input(shape=(100,))"}
    layers = []
    for layer in model.layers:
        entry = {"name": layer.name, "type": type(layer).__name__}
        if isinstance(layer, keras.layers.Dense):
            config = layer.get_config()
            entry["units"] = int(layer.units)
            activation = config.get("activation")
            entry["activation"] = activation if isinstance(activation, str) else str(activation)
            init = config.get("kernel_initializer")
            entry["kernel_initializer"] = (
                init.get("class_name", str(init)) if isinstance(init, dict) else str(init)
            )
            entry["kernel"] = np.asarray(layer.kernel.numpy(), dtype=np.float64).copy()
            entry["bias"] = (
                None if layer.bias is None
                else np.asarray(layer.bias.numpy(), dtype=np.float64).copy()
            )
        layers.append(entry)
    try:
        out = model(probe_batch().astype("float32"), training=False)
        probe = np.asarray(keras.ops.convert_to_numpy(out), dtype=np.float64).copy()
        probe_error = ""
    except Exception as exc:  # noqa: BLE001
        probe, probe_error = None, f"{type(exc).__name__}: {exc}"[:500]
    inputs = getattr(model, "inputs", None) or []
    return {"framework": "keras", "class": type(model).__name__, "layers": layers,
            "n_params": int(model.count_params()),
            "input_shapes": [list(getattr(t, "shape", ()) or ()) for t in inputs],
            "probe": probe, "probe_error": probe_error}


EXTRACTORS = {"torch_model": _torch_model, "keras_model": _keras_model}
