"""Deliberately broken (and deliberately different but correct) initializers.py functions.

Each entry of :data:`BROKEN` is source appended to a copy of the reference
module; it redefines exactly one SPEC function, which must then lose points in
its own checks and nowhere else. Module-level names of the reference
(``np``, ``math``, ``compute_fans``, ``calculate_gain``, ``_as_shape``,
``_generator``, ``TRUNCATED_NORMAL_STD``, ...) are available to the sources.

:data:`CORRECT` redefines every random function so that it uses its ``rng``
differently from the reference (inverse-CDF truncated normal, ``a * (2u - 1)``
instead of ``rng.uniform(-a, a)``, ``rng.normal`` instead of
``standard_normal * std``, float32 output); it must keep full marks.
"""
from __future__ import annotations

__all__ = ["BROKEN", "CORRECT", "FLOAT32"]

# name -> (function that must lose points, source)
BROKEN: dict[str, tuple[str, str]] = {
    # ---------------------------------------------------------------- compute_fans
    "fans_swapped": ("compute_fans", """
        _ref_compute_fans = compute_fans
        def compute_fans(shape, layout="torch"):
            fan_in, fan_out = _ref_compute_fans(shape, layout)
            return fan_out, fan_in
    """),
    "fans_receptive_field_ignored": ("compute_fans", """
        def compute_fans(shape, layout="torch"):
            dims = _as_shape(shape)
            if layout not in ("torch", "keras"):
                raise ValueError(layout)
            if layout == "torch":
                if len(dims) < 2:
                    raise ValueError(dims)
                return dims[1], dims[0]
            if len(dims) == 0:
                return 1, 1
            if len(dims) == 1:
                return dims[0], dims[0]
            return dims[-2], dims[-1]
    """),
    "fans_keras_read_as_torch": ("compute_fans", """
        _ref_compute_fans = compute_fans
        def compute_fans(shape, layout="torch"):
            if layout == "keras" and len(shape) >= 2:
                return _ref_compute_fans(shape, "torch")
            return _ref_compute_fans(shape, layout)
    """),
    "fans_accepts_bool_and_float": ("compute_fans", """
        _ref_compute_fans = compute_fans
        def compute_fans(shape, layout="torch"):
            if isinstance(shape, (tuple, list)):
                shape = tuple(int(d) for d in shape)
            return _ref_compute_fans(shape, layout)
    """),
    "fans_torch_1d_allowed": ("compute_fans", """
        _ref_compute_fans = compute_fans
        def compute_fans(shape, layout="torch"):
            if layout == "torch" and isinstance(shape, (tuple, list)) and len(shape) < 2:
                return _ref_compute_fans(shape, "keras")
            return _ref_compute_fans(shape, layout)
    """),
    "fans_returns_floats": ("compute_fans", """
        _ref_compute_fans = compute_fans
        def compute_fans(shape, layout="torch"):
            fan_in, fan_out = _ref_compute_fans(shape, layout)
            return float(fan_in), float(fan_out)
    """),
    # ---------------------------------------------------------------- calculate_gain
    "gain_selu_wrong": ("calculate_gain", """
        _ref_calculate_gain = calculate_gain
        def calculate_gain(nonlinearity, param=None):
            if nonlinearity == "selu":
                return 1.0
            return _ref_calculate_gain(nonlinearity, param)
    """),
    "gain_tanh_wrong": ("calculate_gain", """
        _ref_calculate_gain = calculate_gain
        def calculate_gain(nonlinearity, param=None):
            if nonlinearity == "tanh":
                return 5.0 / 4.0
            return _ref_calculate_gain(nonlinearity, param)
    """),
    "gain_leaky_default_slope_zero": ("calculate_gain", """
        _ref_calculate_gain = calculate_gain
        def calculate_gain(nonlinearity, param=None):
            if nonlinearity == "leaky_relu" and param is None:
                param = 0.0
            return _ref_calculate_gain(nonlinearity, param)
    """),
    "gain_param_zero_treated_as_missing": ("calculate_gain", """
        _ref_calculate_gain = calculate_gain
        def calculate_gain(nonlinearity, param=None):
            return _ref_calculate_gain(nonlinearity, param or None)
    """),
    "gain_leaky_not_square_rooted": ("calculate_gain", """
        _ref_calculate_gain = calculate_gain
        def calculate_gain(nonlinearity, param=None):
            g = _ref_calculate_gain(nonlinearity, param)
            return g * g if nonlinearity == "leaky_relu" else g
    """),
    "gain_unknown_name_is_one": ("calculate_gain", """
        _ref_calculate_gain = calculate_gain
        def calculate_gain(nonlinearity, param=None):
            try:
                return _ref_calculate_gain(nonlinearity, param)
            except ValueError:
                return 1.0
    """),
    "gain_accepts_bool_param": ("calculate_gain", """
        _ref_calculate_gain = calculate_gain
        def calculate_gain(nonlinearity, param=None):
            if isinstance(param, bool):
                param = float(param)
            return _ref_calculate_gain(nonlinearity, param)
    """),
    # ---------------------------------------------------------------- xavier_uniform
    "xu_missing_sqrt3": ("xavier_uniform", """
        def xavier_uniform(shape, gain=1.0, layout="torch", rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            rng = _generator(rng)
            a = gain * math.sqrt(2.0 / max(1, fan_in + fan_out))
            return rng.uniform(-a, a, size=dims)
    """),
    "xu_fan_in_only": ("xavier_uniform", """
        def xavier_uniform(shape, gain=1.0, layout="torch", rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            rng = _generator(rng)
            a = gain * math.sqrt(3.0 / max(1, fan_in))
            return rng.uniform(-a, a, size=dims)
    """),
    "xu_gain_ignored": ("xavier_uniform", """
        def xavier_uniform(shape, gain=1.0, layout="torch", rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            rng = _generator(rng)
            a = math.sqrt(6.0 / max(1, fan_in + fan_out))
            return rng.uniform(-a, a, size=dims)
    """),
    "xu_normal_instead_of_uniform": ("xavier_uniform", """
        def xavier_uniform(shape, gain=1.0, layout="torch", rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            rng = _generator(rng)
            std = gain * math.sqrt(2.0 / max(1, fan_in + fan_out))
            return std * rng.standard_normal(dims)
    """),
    "xu_transposed_output": ("xavier_uniform", """
        def xavier_uniform(shape, gain=1.0, layout="torch", rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            rng = _generator(rng)
            a = gain * math.sqrt(6.0 / max(1, fan_in + fan_out))
            return rng.uniform(-a, a, size=dims).T  # the other layout's shape
    """),
    "xu_global_np_random": ("xavier_uniform", """
        def xavier_uniform(shape, gain=1.0, layout="torch", rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            a = gain * math.sqrt(6.0 / max(1, fan_in + fan_out))
            return np.random.uniform(-a, a, size=dims)
    """),
    "xu_mean_shifted": ("xavier_uniform", """
        def xavier_uniform(shape, gain=1.0, layout="torch", rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            rng = _generator(rng)
            a = gain * math.sqrt(6.0 / max(1, fan_in + fan_out))
            return rng.uniform(-a, a, size=dims) + 0.03 * a
    """),
    "xu_no_error_on_bad_layout": ("xavier_uniform", """
        def xavier_uniform(shape, gain=1.0, layout="torch", rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, "keras" if layout == "keras" else "torch")
            rng = _generator(rng)
            a = gain * math.sqrt(6.0 / max(1, fan_in + fan_out))
            return rng.uniform(-a, a, size=dims)
    """),
    # ---------------------------------------------------------------- xavier_normal
    "xn_std_used_as_variance": ("xavier_normal", """
        def xavier_normal(shape, gain=1.0, layout="torch", rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            rng = _generator(rng)
            var = gain * gain * 2.0 / max(1, fan_in + fan_out)
            return rng.normal(0.0, var, size=dims)
    """),
    "xn_gain_squared": ("xavier_normal", """
        def xavier_normal(shape, gain=1.0, layout="torch", rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            rng = _generator(rng)
            std = gain * gain * math.sqrt(2.0 / max(1, fan_in + fan_out))
            return std * rng.standard_normal(dims)
    """),
    "xn_truncated_like_keras": ("xavier_normal", """
        def xavier_normal(shape, gain=1.0, layout="torch", rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            rng = _generator(rng)
            std = gain * math.sqrt(2.0 / max(1, fan_in + fan_out)) / TRUNCATED_NORMAL_STD
            z = rng.standard_normal(dims)
            bad = np.abs(z) > 2
            while bad.any():
                z[bad] = rng.standard_normal(int(bad.sum()))
                bad = np.abs(z) > 2
            return std * z
    """),
    "xn_fixed_seed": ("xavier_normal", """
        def xavier_normal(shape, gain=1.0, layout="torch", rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            rng = np.random.default_rng(0)
            std = gain * math.sqrt(2.0 / max(1, fan_in + fan_out))
            return std * rng.standard_normal(dims)
    """),
    "xn_correlated_neighbours": ("xavier_normal", """
        def xavier_normal(shape, gain=1.0, layout="torch", rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            rng = _generator(rng)
            std = gain * math.sqrt(2.0 / max(1, fan_in + fan_out))
            z = rng.standard_normal(dims)
            if z.ndim and z.shape[-1] > 1:
                z = (z + np.roll(z, 1, axis=-1)) / math.sqrt(2.0)
            return std * z
    """),
    "xn_float_dims_accepted": ("xavier_normal", """
        def xavier_normal(shape, gain=1.0, layout="torch", rng=None):
            if isinstance(shape, (tuple, list)):
                shape = tuple(int(d) if isinstance(d, float) and d >= 0 else d for d in shape)
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            rng = _generator(rng)
            std = gain * math.sqrt(2.0 / max(1, fan_in + fan_out))
            return std * rng.standard_normal(dims)
    """),
    # ---------------------------------------------------------------- he_uniform
    "hu_fans_swapped": ("he_uniform", """
        def he_uniform(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", layout="torch",
                       rng=None):
            dims = _as_shape(shape)
            if mode not in ("fan_in", "fan_out"):
                raise ValueError(mode)
            fan_out, fan_in = compute_fans(dims, layout)
            gain = calculate_gain(nonlinearity, a)
            rng = _generator(rng)
            fan = fan_in if mode == "fan_in" else fan_out
            bound = math.sqrt(3.0) * gain / math.sqrt(max(1, fan))
            return rng.uniform(-bound, bound, size=dims)
    """),
    "hu_layout_ignored": ("he_uniform", """
        def he_uniform(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", layout="torch",
                       rng=None):
            dims = _as_shape(shape)
            if mode not in ("fan_in", "fan_out") or layout not in ("torch", "keras"):
                raise ValueError(mode)
            fan_in, fan_out = compute_fans(dims, "torch" if len(dims) >= 2 else layout)
            gain = calculate_gain(nonlinearity, a)
            rng = _generator(rng)
            fan = fan_in if mode == "fan_in" else fan_out
            bound = math.sqrt(3.0) * gain / math.sqrt(max(1, fan))
            return rng.uniform(-bound, bound, size=dims)
    """),
    "hu_receptive_field_ignored": ("he_uniform", """
        def he_uniform(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", layout="torch",
                       rng=None):
            dims = _as_shape(shape)
            if mode not in ("fan_in", "fan_out"):
                raise ValueError(mode)
            fan_in, fan_out = compute_fans(dims, layout)
            if len(dims) > 2:
                kernel = math.prod(dims[2:]) if layout == "torch" else math.prod(dims[:-2])
                fan_in, fan_out = fan_in // max(1, kernel), fan_out // max(1, kernel)
            gain = calculate_gain(nonlinearity, a)
            rng = _generator(rng)
            fan = fan_in if mode == "fan_in" else fan_out
            bound = math.sqrt(3.0) * gain / math.sqrt(max(1, fan))
            return rng.uniform(-bound, bound, size=dims)
    """),
    "hu_gain_squared": ("he_uniform", """
        def he_uniform(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", layout="torch",
                       rng=None):
            dims = _as_shape(shape)
            if mode not in ("fan_in", "fan_out"):
                raise ValueError(mode)
            fan_in, fan_out = compute_fans(dims, layout)
            gain = calculate_gain(nonlinearity, a) ** 2
            rng = _generator(rng)
            fan = fan_in if mode == "fan_in" else fan_out
            bound = math.sqrt(3.0) * gain / math.sqrt(max(1, fan))
            return rng.uniform(-bound, bound, size=dims)
    """),
    "hu_zero_size_crashes": ("he_uniform", """
        def he_uniform(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", layout="torch",
                       rng=None):
            dims = _as_shape(shape)
            if mode not in ("fan_in", "fan_out"):
                raise ValueError(mode)
            fan_in, fan_out = compute_fans(dims, layout)
            gain = calculate_gain(nonlinearity, a)
            rng = _generator(rng)
            fan = fan_in if mode == "fan_in" else fan_out
            bound = math.sqrt(3.0) * gain / math.sqrt(fan)
            return rng.uniform(-bound, bound, size=dims)
    """),
    "hu_one_sided": ("he_uniform", """
        def he_uniform(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", layout="torch",
                       rng=None):
            dims = _as_shape(shape)
            if mode not in ("fan_in", "fan_out"):
                raise ValueError(mode)
            fan_in, fan_out = compute_fans(dims, layout)
            gain = calculate_gain(nonlinearity, a)
            rng = _generator(rng)
            fan = fan_in if mode == "fan_in" else fan_out
            bound = math.sqrt(3.0) * gain / math.sqrt(max(1, fan))
            return rng.uniform(0.0, bound, size=dims)
    """),
    # ---------------------------------------------------------------- he_normal
    "hn_xavier_instead_of_he": ("he_normal", """
        def he_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", layout="torch",
                      rng=None):
            dims = _as_shape(shape)
            if mode not in ("fan_in", "fan_out"):
                raise ValueError(mode)
            fan_in, fan_out = compute_fans(dims, layout)
            calculate_gain(nonlinearity, a)
            rng = _generator(rng)
            fan = fan_in if mode == "fan_in" else fan_out
            std = 1.0 / math.sqrt(max(1, fan))
            return std * rng.standard_normal(dims)
    """),
    "hn_mode_ignored": ("he_normal", """
        def he_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", layout="torch",
                      rng=None):
            dims = _as_shape(shape)
            if mode not in ("fan_in", "fan_out"):
                raise ValueError(mode)
            fan_in, fan_out = compute_fans(dims, layout)
            gain = calculate_gain(nonlinearity, a)
            rng = _generator(rng)
            std = gain / math.sqrt(max(1, fan_in))
            return std * rng.standard_normal(dims)
    """),
    "hn_accepts_fan_avg": ("he_normal", """
        def he_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", layout="torch",
                      rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            gain = calculate_gain(nonlinearity, a)
            rng = _generator(rng)
            fan = fan_out if mode == "fan_out" else fan_in
            std = gain / math.sqrt(max(1, fan))
            return std * rng.standard_normal(dims)
    """),
    "hn_repeated_rows": ("he_normal", """
        def he_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", layout="torch",
                      rng=None):
            dims = _as_shape(shape)
            if mode not in ("fan_in", "fan_out"):
                raise ValueError(mode)
            fan_in, fan_out = compute_fans(dims, layout)
            gain = calculate_gain(nonlinearity, a)
            rng = _generator(rng)
            fan = fan_in if mode == "fan_in" else fan_out
            std = gain / math.sqrt(max(1, fan))
            if len(dims) < 1 or dims[0] == 0:
                return std * rng.standard_normal(dims)
            row = rng.standard_normal(dims[1:])
            return std * np.broadcast_to(row, dims).copy()
    """),
    "hn_slope_ignored": ("he_normal", """
        def he_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", layout="torch",
                      rng=None):
            dims = _as_shape(shape)
            if mode not in ("fan_in", "fan_out"):
                raise ValueError(mode)
            fan_in, fan_out = compute_fans(dims, layout)
            gain = calculate_gain(nonlinearity, 0.0 if nonlinearity == "leaky_relu" else a)
            rng = _generator(rng)
            fan = fan_in if mode == "fan_in" else fan_out
            std = gain / math.sqrt(max(1, fan))
            return std * rng.standard_normal(dims)
    """),
    # ---------------------------------------------------------------- variance_scaling
    "vs_truncated_not_rescaled": ("variance_scaling", """
        _ref_vs = variance_scaling
        def variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal",
                             layout="keras", rng=None):
            w = _ref_vs(shape, scale, mode, distribution, layout, rng)
            return w * TRUNCATED_NORMAL_STD if distribution == "truncated_normal" else w
    """),
    "vs_clipped_not_redrawn": ("variance_scaling", """
        _ref_vs = variance_scaling
        def variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal",
                             layout="keras", rng=None):
            if distribution != "truncated_normal":
                return _ref_vs(shape, scale, mode, distribution, layout, rng)
            w = _ref_vs(shape, scale, mode, "untruncated_normal", layout, rng)
            fan_in, fan_out = compute_fans(shape, layout)
            n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
            std = math.sqrt(scale / max(1.0, n)) / TRUNCATED_NORMAL_STD
            return np.clip(w / TRUNCATED_NORMAL_STD, -2 * std, 2 * std)
    """),
    "vs_truncated_at_3_sigma": ("variance_scaling", """
        _ref_vs = variance_scaling
        def variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal",
                             layout="keras", rng=None):
            if distribution != "truncated_normal":
                return _ref_vs(shape, scale, mode, distribution, layout, rng)
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            rng = _generator(rng)
            n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
            z = rng.standard_normal(dims)
            bad = np.abs(z) > 3
            while bad.any():
                z[bad] = rng.standard_normal(int(bad.sum()))
                bad = np.abs(z) > 3
            return math.sqrt(scale / max(1.0, n)) / TRUNCATED_NORMAL_STD * z
    """),
    "vs_accepts_normal_alias": ("variance_scaling", """
        _ref_vs = variance_scaling
        def variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal",
                             layout="keras", rng=None):
            if distribution == "normal":
                distribution = "truncated_normal"
            return _ref_vs(shape, scale, mode, distribution, layout, rng)
    """),
    "vs_uniform_missing_sqrt3": ("variance_scaling", """
        _ref_vs = variance_scaling
        def variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal",
                             layout="keras", rng=None):
            w = _ref_vs(shape, scale, mode, distribution, layout, rng)
            return w / math.sqrt(3.0) if distribution == "uniform" else w
    """),
    "vs_fan_avg_without_half": ("variance_scaling", """
        _ref_vs = variance_scaling
        def variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal",
                             layout="keras", rng=None):
            w = _ref_vs(shape, scale, mode, distribution, layout, rng)
            return w / math.sqrt(2.0) if mode == "fan_avg" else w
    """),
    "vs_untruncated_is_truncated": ("variance_scaling", """
        _ref_vs = variance_scaling
        def variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal",
                             layout="keras", rng=None):
            if distribution == "untruncated_normal":
                distribution = "truncated_normal"
            return _ref_vs(shape, scale, mode, distribution, layout, rng)
    """),
    "vs_default_layout_torch": ("variance_scaling", """
        _ref_vs = variance_scaling
        def variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal",
                             layout="torch", rng=None):
            return _ref_vs(shape, scale, mode, distribution, layout, rng)
    """),
    "vs_scale_zero_accepted": ("variance_scaling", """
        _ref_vs = variance_scaling
        def variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal",
                             layout="keras", rng=None):
            if scale == 0:
                return np.zeros(_as_shape(shape))
            return _ref_vs(shape, abs(scale), mode, distribution, layout, rng)
    """),
    # ---------------------------------------------------------------- more, one per remaining check
    "xn_half_normal": ("xavier_normal", """
        def xavier_normal(shape, gain=1.0, layout="torch", rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            rng = _generator(rng)
            std = gain * math.sqrt(2.0 / max(1, fan_in + fan_out))
            return std * np.abs(rng.standard_normal(dims))
    """),
    "xn_global_np_random": ("xavier_normal", """
        def xavier_normal(shape, gain=1.0, layout="torch", rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            std = gain * math.sqrt(2.0 / max(1, fan_in + fan_out))
            return std * np.random.standard_normal(dims)
    """),
    "xn_returns_list": ("xavier_normal", """
        _ref_xavier_normal = xavier_normal
        def xavier_normal(shape, gain=1.0, layout="torch", rng=None):
            return _ref_xavier_normal(shape, gain, layout, rng).tolist()
    """),
    "hu_mode_unchecked": ("he_uniform", """
        def he_uniform(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", layout="torch",
                       rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            gain = calculate_gain(nonlinearity, a)
            rng = _generator(rng)
            fan = fan_out if mode == "fan_out" else fan_in
            bound = math.sqrt(3.0) * gain / math.sqrt(max(1, fan))
            return rng.uniform(-bound, bound, size=dims)
    """),
    "hu_fresh_generator": ("he_uniform", """
        def he_uniform(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", layout="torch",
                       rng=None):
            dims = _as_shape(shape)
            if mode not in ("fan_in", "fan_out"):
                raise ValueError(mode)
            fan_in, fan_out = compute_fans(dims, layout)
            gain = calculate_gain(nonlinearity, a)
            rng = np.random.default_rng()
            fan = fan_in if mode == "fan_in" else fan_out
            bound = math.sqrt(3.0) * gain / math.sqrt(max(1, fan))
            return rng.uniform(-bound, bound, size=dims)
    """),
    "hn_squeezed": ("he_normal", """
        _ref_he_normal = he_normal
        def he_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", layout="torch",
                      rng=None):
            return np.squeeze(_ref_he_normal(shape, a, mode, nonlinearity, layout, rng))
    """),
    "hn_mean_shifted": ("he_normal", """
        _ref_he_normal = he_normal
        def he_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", layout="torch",
                      rng=None):
            w = _ref_he_normal(shape, a, mode, nonlinearity, layout, rng)
            return w + 0.05 * np.sqrt(np.mean(w * w)) if w.size else w
    """),
    "hn_uniform_instead_of_normal": ("he_normal", """
        def he_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", layout="torch",
                      rng=None):
            dims = _as_shape(shape)
            if mode not in ("fan_in", "fan_out"):
                raise ValueError(mode)
            fan_in, fan_out = compute_fans(dims, layout)
            gain = calculate_gain(nonlinearity, a)
            rng = _generator(rng)
            fan = fan_in if mode == "fan_in" else fan_out
            bound = math.sqrt(3.0) * gain / math.sqrt(max(1, fan))
            return rng.uniform(-bound, bound, size=dims)
    """),
    "hn_np_random_randn": ("he_normal", """
        def he_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", layout="torch",
                      rng=None):
            dims = _as_shape(shape)
            if mode not in ("fan_in", "fan_out"):
                raise ValueError(mode)
            fan_in, fan_out = compute_fans(dims, layout)
            gain = calculate_gain(nonlinearity, a)
            fan = fan_in if mode == "fan_in" else fan_out
            std = gain / math.sqrt(max(1, fan))
            return std * np.random.randn(*dims)
    """),
    "vs_uniform_shifted": ("variance_scaling", """
        _ref_vs = variance_scaling
        def variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal",
                             layout="keras", rng=None):
            w = _ref_vs(shape, scale, mode, distribution, layout, rng)
            if distribution == "uniform" and w.size:
                w = w + 0.1 * np.max(np.abs(w))
            return w
    """),
    "vs_global_state_for_normal": ("variance_scaling", """
        _ref_vs = variance_scaling
        def variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal",
                             layout="keras", rng=None):
            return _ref_vs(shape, scale, mode, distribution, layout,
                           np.random.default_rng(np.random.randint(2**31)))
    """),
}

# Correct, but drawing from rng differently from the reference.
CORRECT = """
from scipy.special import ndtr as _ndtr, ndtri as _ndtri


def _fan(shape, layout, mode):
    fan_in, fan_out = compute_fans(shape, layout)
    return {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[mode]


def variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal",
                     layout="keras", rng=None):
    dims = _as_shape(shape)
    if not _is_finite_real(scale) or scale <= 0:
        raise ValueError("scale")
    if mode not in ("fan_in", "fan_out", "fan_avg"):
        raise ValueError("mode")
    if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
        raise ValueError("distribution")
    n = _fan(dims, layout, mode)
    rng = np.random.default_rng() if rng is None else rng
    std = math.sqrt(scale / max(1.0, n))
    if distribution == "uniform":
        u = rng.random(dims)
        return math.sqrt(3.0) * std * (2.0 * u - 1.0)
    if distribution == "untruncated_normal":
        return rng.normal(0.0, std, size=dims)
    # inverse-CDF sampling of the normal truncated to [-2, 2]
    lo, hi = _ndtr(-2.0), _ndtr(2.0)
    u = lo + (hi - lo) * rng.random(dims)
    return (std / 0.87962566103423978) * _ndtri(u)


def xavier_uniform(shape, gain=1.0, layout="torch", rng=None):
    dims = _as_shape(shape)
    fan_in, fan_out = compute_fans(dims, layout)
    rng = np.random.default_rng() if rng is None else rng
    if fan_in + fan_out == 0:
        return np.empty(dims)
    a = gain * math.sqrt(6.0) / math.sqrt(fan_in + fan_out)
    return a * (2.0 * rng.random(size=dims) - 1.0)


def xavier_normal(shape, gain=1.0, layout="torch", rng=None):
    dims = _as_shape(shape)
    fan_in, fan_out = compute_fans(dims, layout)
    rng = np.random.default_rng() if rng is None else rng
    if fan_in + fan_out == 0:
        return np.empty(dims)
    return rng.normal(loc=0.0, scale=gain * math.sqrt(2.0 / (fan_in + fan_out)), size=dims)


def he_uniform(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", layout="torch", rng=None):
    dims = _as_shape(shape)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError("mode")
    gain = calculate_gain(nonlinearity, a)
    fan = _fan(dims, layout, mode)
    rng = np.random.default_rng() if rng is None else rng
    if fan == 0:
        return np.empty(dims)
    bound = math.sqrt(3.0 / fan) * gain
    # draw in a different order: the transpose of the reversed shape
    return rng.uniform(-bound, bound, size=dims[::-1]).T.copy()


def he_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", layout="torch", rng=None):
    dims = _as_shape(shape)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError("mode")
    gain = calculate_gain(nonlinearity, a)
    fan = _fan(dims, layout, mode)
    rng = np.random.default_rng() if rng is None else rng
    if fan == 0:
        return np.empty(dims)
    # Box-Muller from two uniforms
    size = math.prod(dims)
    half = (size + 1) // 2
    u1, u2 = 1.0 - rng.random(half), rng.random(half)
    r = np.sqrt(-2.0 * np.log(u1))
    z = np.concatenate([r * np.cos(2 * np.pi * u2), r * np.sin(2 * np.pi * u2)])[:size]
    return (gain / math.sqrt(fan)) * z.reshape(dims)
"""

# Correct too: SPEC asks for a floating array, and float32 is one.
FLOAT32 = """
_ref_xavier_uniform = xavier_uniform
_ref_variance_scaling = variance_scaling


def xavier_uniform(shape, gain=1.0, layout="torch", rng=None):
    return _ref_xavier_uniform(shape, gain, layout, rng).astype(np.float32)


def variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal",
                     layout="keras", rng=None):
    return _ref_variance_scaling(shape, scale, mode, distribution, layout, rng).astype(np.float32)
"""
