"""Deliberately broken initializers.py functions: each redefines one function of a copy of the reference.

Every record must lose points in exactly its function, and fail at least the
checks it lists (``tests/test_banks.py``).
"""
from __future__ import annotations

from banks.record import Broken

__all__ = ["BROKEN", "CORRECT", "FLOAT32"]

BROKEN: tuple[Broken, ...] = (
    Broken('fans_swapped', 'compute_fans', ('keras_layout', 'keras_parity', 'torch_layout', 'torch_parity'), """
        _ref_compute_fans = compute_fans
        def compute_fans(shape, layout="torch"):
            fan_in, fan_out = _ref_compute_fans(shape, layout)
            return fan_out, fan_in
    """),
    Broken('fans_receptive_field_ignored', 'compute_fans', ('keras_layout', 'torch_layout'), """
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
    Broken('fans_keras_read_as_torch', 'compute_fans', ('keras_layout', 'keras_parity'), """
        _ref_compute_fans = compute_fans
        def compute_fans(shape, layout="torch"):
            if layout == "keras" and len(shape) >= 2:
                return _ref_compute_fans(shape, "torch")
            return _ref_compute_fans(shape, layout)
    """),
    Broken('fans_accepts_bool_and_float', 'compute_fans', ('invalid_input',), """
        _ref_compute_fans = compute_fans
        def compute_fans(shape, layout="torch"):
            if isinstance(shape, (tuple, list)):
                shape = tuple(int(d) for d in shape)
            return _ref_compute_fans(shape, layout)
    """),
    Broken('fans_torch_1d_allowed', 'compute_fans', ('invalid_input', 'torch_parity'), """
        _ref_compute_fans = compute_fans
        def compute_fans(shape, layout="torch"):
            if layout == "torch" and isinstance(shape, (tuple, list)) and len(shape) < 2:
                return _ref_compute_fans(shape, "keras")
            return _ref_compute_fans(shape, layout)
    """),
    Broken('fans_returns_floats', 'compute_fans', ('shape_dtype',), """
        _ref_compute_fans = compute_fans
        def compute_fans(shape, layout="torch"):
            fan_in, fan_out = _ref_compute_fans(shape, layout)
            return float(fan_in), float(fan_out)
    """),
    Broken('gain_selu_wrong', 'calculate_gain', ('torch_parity', 'values'), """
        _ref_calculate_gain = calculate_gain
        def calculate_gain(nonlinearity, param=None):
            if nonlinearity == "selu":
                return 1.0
            return _ref_calculate_gain(nonlinearity, param)
    """),
    Broken('gain_tanh_wrong', 'calculate_gain', ('torch_parity', 'values'), """
        _ref_calculate_gain = calculate_gain
        def calculate_gain(nonlinearity, param=None):
            if nonlinearity == "tanh":
                return 5.0 / 4.0
            return _ref_calculate_gain(nonlinearity, param)
    """),
    Broken('gain_leaky_default_slope_zero', 'calculate_gain', ('torch_parity', 'values'), """
        _ref_calculate_gain = calculate_gain
        def calculate_gain(nonlinearity, param=None):
            if nonlinearity == "leaky_relu" and param is None:
                param = 0.0
            return _ref_calculate_gain(nonlinearity, param)
    """),
    Broken('gain_param_zero_treated_as_missing', 'calculate_gain', ('values',), """
        _ref_calculate_gain = calculate_gain
        def calculate_gain(nonlinearity, param=None):
            return _ref_calculate_gain(nonlinearity, param or None)
    """),
    Broken('gain_leaky_not_square_rooted', 'calculate_gain', ('values',), """
        _ref_calculate_gain = calculate_gain
        def calculate_gain(nonlinearity, param=None):
            g = _ref_calculate_gain(nonlinearity, param)
            return g * g if nonlinearity == "leaky_relu" else g
    """),
    Broken('gain_unknown_name_is_one', 'calculate_gain', ('invalid_input',), """
        _ref_calculate_gain = calculate_gain
        def calculate_gain(nonlinearity, param=None):
            try:
                return _ref_calculate_gain(nonlinearity, param)
            except ValueError:
                return 1.0
    """),
    Broken('gain_accepts_bool_param', 'calculate_gain', ('invalid_input',), """
        _ref_calculate_gain = calculate_gain
        def calculate_gain(nonlinearity, param=None):
            if isinstance(param, bool):
                param = float(param)
            return _ref_calculate_gain(nonlinearity, param)
    """),
    Broken('xu_missing_sqrt3', 'xavier_uniform', ('distribution', 'support', 'torch_parity', 'variance'), """
        def xavier_uniform(shape, gain=1.0, layout="torch", rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            rng = _generator(rng)
            a = gain * math.sqrt(2.0 / max(1, fan_in + fan_out))
            return rng.uniform(-a, a, size=dims)
    """),
    Broken('xu_fan_in_only', 'xavier_uniform', ('support', 'variance'), """
        def xavier_uniform(shape, gain=1.0, layout="torch", rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            rng = _generator(rng)
            a = gain * math.sqrt(3.0 / max(1, fan_in))
            return rng.uniform(-a, a, size=dims)
    """),
    Broken('xu_gain_ignored', 'xavier_uniform', ('torch_parity', 'variance'), """
        def xavier_uniform(shape, gain=1.0, layout="torch", rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            rng = _generator(rng)
            a = math.sqrt(6.0 / max(1, fan_in + fan_out))
            return rng.uniform(-a, a, size=dims)
    """),
    Broken('xu_normal_instead_of_uniform', 'xavier_uniform', ('distribution', 'shape_dtype', 'support'), """
        def xavier_uniform(shape, gain=1.0, layout="torch", rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            rng = _generator(rng)
            std = gain * math.sqrt(2.0 / max(1, fan_in + fan_out))
            return std * rng.standard_normal(dims)
    """),
    Broken('xu_transposed_output', 'xavier_uniform', ('shape_dtype',), """
        def xavier_uniform(shape, gain=1.0, layout="torch", rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            rng = _generator(rng)
            a = gain * math.sqrt(6.0 / max(1, fan_in + fan_out))
            return rng.uniform(-a, a, size=dims).T  # the other layout's shape
    """),
    Broken('xu_global_np_random', 'xavier_uniform', ('reproducible',), """
        def xavier_uniform(shape, gain=1.0, layout="torch", rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            a = gain * math.sqrt(6.0 / max(1, fan_in + fan_out))
            return np.random.uniform(-a, a, size=dims)
    """),
    Broken('xu_mean_shifted', 'xavier_uniform', ('mean',), """
        def xavier_uniform(shape, gain=1.0, layout="torch", rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            rng = _generator(rng)
            a = gain * math.sqrt(6.0 / max(1, fan_in + fan_out))
            return rng.uniform(-a, a, size=dims) + 0.03 * a
    """),
    Broken('xu_no_error_on_bad_layout', 'xavier_uniform', ('invalid_input',), """
        def xavier_uniform(shape, gain=1.0, layout="torch", rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, "keras" if layout == "keras" else "torch")
            rng = _generator(rng)
            a = gain * math.sqrt(6.0 / max(1, fan_in + fan_out))
            return rng.uniform(-a, a, size=dims)
    """),
    Broken('xn_std_used_as_variance', 'xavier_normal', ('distribution', 'support', 'torch_parity', 'variance'), """
        def xavier_normal(shape, gain=1.0, layout="torch", rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            rng = _generator(rng)
            var = gain * gain * 2.0 / max(1, fan_in + fan_out)
            return rng.normal(0.0, var, size=dims)
    """),
    Broken('xn_gain_squared', 'xavier_normal', ('variance',), """
        def xavier_normal(shape, gain=1.0, layout="torch", rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            rng = _generator(rng)
            std = gain * gain * math.sqrt(2.0 / max(1, fan_in + fan_out))
            return std * rng.standard_normal(dims)
    """),
    Broken('xn_truncated_like_keras', 'xavier_normal', ('support',), """
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
    Broken('xn_fixed_seed', 'xavier_normal', ('independence',), """
        def xavier_normal(shape, gain=1.0, layout="torch", rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            rng = np.random.default_rng(0)
            std = gain * math.sqrt(2.0 / max(1, fan_in + fan_out))
            return std * rng.standard_normal(dims)
    """),
    Broken('xn_correlated_neighbours', 'xavier_normal', ('independence',), """
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
    Broken('xn_float_dims_accepted', 'xavier_normal', ('invalid_input',), """
        def xavier_normal(shape, gain=1.0, layout="torch", rng=None):
            if isinstance(shape, (tuple, list)):
                shape = tuple(int(d) if isinstance(d, float) and d >= 0 else d for d in shape)
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            rng = _generator(rng)
            std = gain * math.sqrt(2.0 / max(1, fan_in + fan_out))
            return std * rng.standard_normal(dims)
    """),
    Broken('hu_fans_swapped', 'he_uniform', ('support', 'torch_parity', 'variance'), """
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
    Broken('hu_layout_ignored', 'he_uniform', ('variance',), """
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
    Broken('hu_receptive_field_ignored', 'he_uniform', ('variance',), """
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
    Broken('hu_gain_squared', 'he_uniform', ('variance',), """
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
    Broken('hu_zero_size_crashes', 'he_uniform', ('shape_dtype',), """
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
    Broken('hu_one_sided', 'he_uniform', ('distribution', 'independence', 'mean'), """
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
    Broken('hn_truncated_not_rescaled', 'he_normal',
           ('distribution', 'support', 'torch_parity', 'variance'), """
        def he_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", layout="torch",
                      rng=None):
            dims = _as_shape(shape)
            if mode not in ("fan_in", "fan_out"):
                raise ValueError(mode)
            fan_in, fan_out = compute_fans(dims, layout)
            gain = calculate_gain(nonlinearity, a)
            rng = _generator(rng)
            std = gain / math.sqrt(max(1, fan_in if mode == "fan_in" else fan_out))
            z = rng.standard_normal(dims)
            bad = np.abs(z) > 2
            while bad.any():
                z[bad] = rng.standard_normal(int(bad.sum()))
                bad = np.abs(z) > 2
            return std * z
    """),
    Broken('hn_xavier_instead_of_he', 'he_normal', ('torch_parity', 'variance'), """
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
    Broken('hn_mode_ignored', 'he_normal', ('torch_parity', 'variance'), """
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
    Broken('hn_accepts_fan_avg', 'he_normal', ('invalid_input',), """
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
    Broken('hn_repeated_rows', 'he_normal', ('independence',), """
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
    Broken('hn_slope_ignored', 'he_normal', ('invalid_input', 'variance'), """
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
    Broken('vs_truncated_not_rescaled', 'variance_scaling', ('distribution', 'support', 'variance'), """
        _ref_vs = variance_scaling
        def variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal",
                             layout="keras", rng=None):
            w = _ref_vs(shape, scale, mode, distribution, layout, rng)
            return w * TRUNCATED_NORMAL_STD if distribution == "truncated_normal" else w
    """),
    Broken('vs_clipped_not_redrawn', 'variance_scaling', ('independence', 'variance'), """
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
    Broken('vs_truncated_at_3_sigma', 'variance_scaling', ('support', 'variance'), """
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
    Broken('vs_accepts_normal_alias', 'variance_scaling', ('invalid_input',), """
        _ref_vs = variance_scaling
        def variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal",
                             layout="keras", rng=None):
            if distribution == "normal":
                distribution = "truncated_normal"
            return _ref_vs(shape, scale, mode, distribution, layout, rng)
    """),
    Broken('vs_uniform_missing_sqrt3', 'variance_scaling', ('support', 'variance'), """
        _ref_vs = variance_scaling
        def variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal",
                             layout="keras", rng=None):
            w = _ref_vs(shape, scale, mode, distribution, layout, rng)
            return w / math.sqrt(3.0) if distribution == "uniform" else w
    """),
    Broken('vs_fan_avg_without_half', 'variance_scaling', ('keras_parity', 'variance'), """
        _ref_vs = variance_scaling
        def variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal",
                             layout="keras", rng=None):
            w = _ref_vs(shape, scale, mode, distribution, layout, rng)
            return w / math.sqrt(2.0) if mode == "fan_avg" else w
    """),
    Broken('vs_untruncated_is_truncated', 'variance_scaling', ('support',), """
        _ref_vs = variance_scaling
        def variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal",
                             layout="keras", rng=None):
            if distribution == "untruncated_normal":
                distribution = "truncated_normal"
            return _ref_vs(shape, scale, mode, distribution, layout, rng)
    """),
    Broken('vs_default_layout_torch', 'variance_scaling', ('keras_parity', 'shape_dtype', 'variance'), """
        _ref_vs = variance_scaling
        def variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal",
                             layout="torch", rng=None):
            return _ref_vs(shape, scale, mode, distribution, layout, rng)
    """),
    Broken('vs_scale_zero_accepted', 'variance_scaling', ('invalid_input',), """
        _ref_vs = variance_scaling
        def variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal",
                             layout="keras", rng=None):
            if scale == 0:
                return np.zeros(_as_shape(shape))
            return _ref_vs(shape, abs(scale), mode, distribution, layout, rng)
    """),
    Broken('xn_half_normal', 'xavier_normal', ('distribution', 'mean'), """
        def xavier_normal(shape, gain=1.0, layout="torch", rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            rng = _generator(rng)
            std = gain * math.sqrt(2.0 / max(1, fan_in + fan_out))
            return std * np.abs(rng.standard_normal(dims))
    """),
    Broken('xn_global_np_random', 'xavier_normal', ('reproducible',), """
        def xavier_normal(shape, gain=1.0, layout="torch", rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            std = gain * math.sqrt(2.0 / max(1, fan_in + fan_out))
            return std * np.random.standard_normal(dims)
    """),
    Broken('xn_returns_list', 'xavier_normal', ('shape_dtype', 'variance'), """
        _ref_xavier_normal = xavier_normal
        def xavier_normal(shape, gain=1.0, layout="torch", rng=None):
            return _ref_xavier_normal(shape, gain, layout, rng).tolist()
    """),
    Broken('hu_mode_unchecked', 'he_uniform', ('invalid_input',), """
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
    Broken('hu_fresh_generator', 'he_uniform', ('reproducible',), """
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
    Broken('hn_squeezed', 'he_normal', ('shape_dtype',), """
        _ref_he_normal = he_normal
        def he_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", layout="torch",
                      rng=None):
            return np.squeeze(_ref_he_normal(shape, a, mode, nonlinearity, layout, rng))
    """),
    Broken('hn_mean_shifted', 'he_normal', ('mean',), """
        _ref_he_normal = he_normal
        def he_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", layout="torch",
                      rng=None):
            w = _ref_he_normal(shape, a, mode, nonlinearity, layout, rng)
            return w + 0.05 * np.sqrt(np.mean(w * w)) if w.size else w
    """),
    Broken('hn_uniform_instead_of_normal', 'he_normal', ('distribution', 'support'), """
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
    Broken('hn_np_random_randn', 'he_normal', ('reproducible',), """
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
    Broken('vs_uniform_shifted', 'variance_scaling', ('mean', 'support'), """
        _ref_vs = variance_scaling
        def variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal",
                             layout="keras", rng=None):
            w = _ref_vs(shape, scale, mode, distribution, layout, rng)
            if distribution == "uniform" and w.size:
                w = w + 0.1 * np.max(np.abs(w))
            return w
    """),
    Broken('vs_global_state_for_normal', 'variance_scaling', ('reproducible',), """
        _ref_vs = variance_scaling
        def variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal",
                             layout="keras", rng=None):
            return _ref_vs(shape, scale, mode, distribution, layout,
                           np.random.default_rng(np.random.randint(2**31)))
    """),
)

#: samples differently but correctly: must keep full marks
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

#: every random function returning float32: must keep full marks
FLOAT32 = """
_ref_xavier_uniform = xavier_uniform
_ref_variance_scaling = variance_scaling


def xavier_uniform(shape, gain=1.0, layout="torch", rng=None):
    return _ref_xavier_uniform(shape, gain, layout, rng).astype(np.float32)


def variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal",
                     layout="keras", rng=None):
    return _ref_variance_scaling(shape, scale, mode, distribution, layout, rng).astype(np.float32)
"""

BROKEN += (
    # the Keras-vs-PyTorch mix-up of the seed's Q7: truncated at 2 sigma, not rescaled
    Broken('xn_truncated_not_rescaled', 'xavier_normal', ('support', 'torch_parity', 'variance'), """
        def xavier_normal(shape, gain=1.0, layout="torch", rng=None):
            dims = _as_shape(shape)
            fan_in, fan_out = compute_fans(dims, layout)
            rng = _generator(rng)
            std = gain * math.sqrt(2.0 / max(1, fan_in + fan_out))
            z = rng.standard_normal(dims)
            bad = np.abs(z) > 2
            while bad.any():
                z[bad] = rng.standard_normal(int(bad.sum()))
                bad = np.abs(z) > 2
            return std * z
    """),
    Broken('hn_truncated_not_rescaled', 'he_normal', ('support', 'torch_parity', 'variance'), """
        _ref_he_normal = he_normal
        def he_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", layout="torch",
                      rng=None):
            w = _ref_he_normal(shape, a, mode, nonlinearity, layout, rng)
            rng = _generator(rng)
            std = float(np.sqrt(np.mean(w * w))) if w.size else 1.0
            bad = np.abs(w) > 2 * std
            while bad.any():
                w[bad] = rng.standard_normal(int(bad.sum())) * std
                bad = np.abs(w) > 2 * std
            return w
    """),
    Broken('xu_accepts_one_dim_zero', 'xavier_uniform', ('invalid_input',), """
        _ref_xavier_uniform = xavier_uniform
        def xavier_uniform(shape, gain=1.0, layout="torch", rng=None):
            if isinstance(shape, (tuple, list)) and len(shape) == 1 and shape[0] == 0:
                return np.zeros((0,))
            return _ref_xavier_uniform(shape, gain, layout, rng)
    """),
    Broken('xu_tiled_rows', 'xavier_uniform', ('independence',), """
        _ref_xavier_uniform = xavier_uniform
        def xavier_uniform(shape, gain=1.0, layout="torch", rng=None):
            w = _ref_xavier_uniform(shape, gain, layout, rng)
            if w.ndim >= 2 and w.shape[0] > 1:
                w[1:] = w[:1]
            return w
    """),
    Broken('gain_returns_array', 'calculate_gain', ('shape_dtype',), """
        _ref_calculate_gain = calculate_gain
        def calculate_gain(nonlinearity, param=None):
            return np.asarray(_ref_calculate_gain(nonlinearity, param))
    """),
)
