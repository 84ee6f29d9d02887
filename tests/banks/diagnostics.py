"""Deliberately broken diagnostics.py functions: each redefines one function of a copy of the reference.

Every record must lose points in exactly its function, and fail at least the
checks it lists (``tests/test_banks.py``).
"""
from __future__ import annotations

from banks.record import Broken

__all__ = ["BROKEN", "CORRECT"]

BROKEN: tuple[Broken, ...] = (
    Broken('ng_one_sided', 'numerical_gradient', ('centred', 'smooth_functions'), """
        def numerical_gradient(f, x, h=1e-5):
            p = np.array(x, dtype=float)
            g = np.zeros_like(p)
            f0 = f(p)
            for i in np.ndindex(p.shape):
                old = p[i]
                p[i] = old + h
                g[i] = (f(p) - f0) / h
                p[i] = old
            return g
    """),
    Broken('ng_not_restoring_x', 'numerical_gradient', ('no_mutation',), """
        def numerical_gradient(f, x, h=1e-5):
            g = np.zeros_like(x, dtype=float)
            for i in np.ndindex(x.shape):
                old = x[i]
                x[i] = old + h
                fp = f(x)
                x[i] = old - h
                fm = f(x)
                g[i] = (fp - fm) / (2 * h)
            return g
    """),
    Broken('ng_ignores_h', 'numerical_gradient', ('centred',), """
        _ref_ng = numerical_gradient
        def numerical_gradient(f, x, h=1e-5):
            return _ref_ng(f, x)
    """),
    Broken('ng_first_axis_only', 'numerical_gradient', ('smooth_functions',), """
        def numerical_gradient(f, x, h=1e-5):
            p = np.array(x, dtype=float)
            g = np.zeros_like(p)
            for i in range(p.shape[0]):
                old = p[i].copy()
                p[i] = old + h
                fp = f(p)
                p[i] = old - h
                fm = f(p)
                p[i] = old
                g[i] = (fp - fm) / (2 * h)
            return g
    """),
    Broken('re_no_guard', 'relative_error', ('special_cases',), """
        def relative_error(a, b):
            a, b = np.asarray(a, float), np.asarray(b, float)
            if a.size == 0:
                return 0.0
            with np.errstate(all="ignore"):
                return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))))
    """),
    Broken('re_mean_instead_of_max', 'relative_error', ('formula', 'special_cases'), """
        def relative_error(a, b):
            a, b = np.asarray(a, float), np.asarray(b, float)
            if a.size == 0:
                return 0.0
            return float(np.mean(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
    """),
    Broken('re_abs_of_sum', 'relative_error', ('formula', 'special_cases'), """
        def relative_error(a, b):
            a, b = np.asarray(a, float), np.asarray(b, float)
            if a.size == 0:
                return 0.0
            return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a + b))))
    """),
    Broken('re_returns_array', 'relative_error', ('shape_dtype',), """
        _ref_re = relative_error
        def relative_error(a, b):
            return np.array(_ref_re(a, b))
    """),
    Broken('mg_last_layer_activated', 'mlp_gradient_norms', ('last_layer_linear', 'values'), """
        def mlp_gradient_norms(weights, x, activation="tanh"):
            ws, hs, zs = _forward(weights, x, activation)
            n = hs[0].shape[0]
            out = _act(zs[-1], activation)
            delta = out / n * _act_derivative(zs[-1], out, activation)
            norms = [0.0] * len(ws)
            for layer in range(len(ws) - 1, -1, -1):
                norms[layer] = float(np.linalg.norm(delta.T @ hs[layer]))
                if layer > 0:
                    delta = (delta @ ws[layer]) * _act_derivative(zs[layer - 1], hs[layer],
                                                                  activation)
            return norms
    """),
    Broken('mg_loss_not_divided_by_n', 'mlp_gradient_norms', ('batch_mean', 'demo_relu_he_healthy', 'demo_tanh_unit_normal_explodes', 'values'), """
        _ref_mg = mlp_gradient_norms
        def mlp_gradient_norms(weights, x, activation="tanh"):
            n = np.asarray(x).shape[0]
            return [g * n for g in _ref_mg(weights, x, activation)]
    """),
    Broken('mg_sigmoid_derivative_missing_factor', 'mlp_gradient_norms', ('last_layer_linear', 'values'), """
        def mlp_gradient_norms(weights, x, activation="tanh"):
            ws, hs, zs = _forward(weights, x, activation)
            delta = zs[-1] / hs[0].shape[0]
            norms = [0.0] * len(ws)
            for layer in range(len(ws) - 1, -1, -1):
                norms[layer] = float(np.linalg.norm(delta.T @ hs[layer]))
                if layer > 0:
                    z, h = zs[layer - 1], hs[layer]
                    d = h if activation == "sigmoid" else _act_derivative(z, h, activation)
                    delta = (delta @ ws[layer]) * d
            return norms
    """),
    Broken('mg_tanh_derivative_of_z', 'mlp_gradient_norms', ('demo_tanh_unit_normal_explodes', 'demo_tanh_xavier_healthy', 'last_layer_linear', 'values'), """
        def mlp_gradient_norms(weights, x, activation="tanh"):
            ws, hs, zs = _forward(weights, x, activation)
            delta = zs[-1] / hs[0].shape[0]
            norms = [0.0] * len(ws)
            for layer in range(len(ws) - 1, -1, -1):
                norms[layer] = float(np.linalg.norm(delta.T @ hs[layer]))
                if layer > 0:
                    z = zs[layer - 1]
                    d = 1 - z * z if activation == "tanh" else _act_derivative(
                        z, hs[layer], activation)
                    delta = (delta @ ws[layer]) * d
            return norms
    """),
    Broken('mg_output_side_first', 'mlp_gradient_norms', ('demo_sigmoid_small_weights_vanish', 'values'), """
        _ref_mg = mlp_gradient_norms
        def mlp_gradient_norms(weights, x, activation="tanh"):
            return _ref_mg(weights, x, activation)[::-1]
    """),
    Broken('mg_unknown_activation_is_linear', 'mlp_gradient_norms', ('invalid_inputs',), """
        _ref_mg = mlp_gradient_norms
        def mlp_gradient_norms(weights, x, activation="tanh"):
            if activation not in _ACTIVATIONS:
                activation = "linear"
            return _ref_mg(weights, x, activation)
    """),
    Broken('mg_relu_in_place_on_x', 'mlp_gradient_norms', ('no_mutation',), """
        _ref_mg = mlp_gradient_norms
        def mlp_gradient_norms(weights, x, activation="tanh"):
            result = _ref_mg(weights, x, activation)
            np.maximum(x, 0.0, out=x)
            return result
    """),
    Broken('as_std_ddof_1', 'activation_stats', ('saturation_and_dead', 'values'), """
        _ref_as = activation_stats
        def activation_stats(weights, x, activation="tanh"):
            _, hs, _ = _forward(weights, x, activation)
            stats = _ref_as(weights, x, activation)
            for s, h in zip(stats, hs[1:]):
                s["std"] = float(np.std(h, ddof=1)) if h.size > 1 else 0.0
            return stats
    """),
    Broken('as_output_layer_included', 'activation_stats', ('saturation_and_dead', 'values'), """
        _ref_as = activation_stats
        def activation_stats(weights, x, activation="tanh"):
            ws, hs, zs = _forward(weights, x, activation)
            stats = _ref_as(weights, x, activation)
            h = _act(zs[-1], activation)
            stats.append({"mean": float(h.mean()), "std": float(h.std()),
                          "saturated": 0.0, "dead": 0.0})
            return stats
    """),
    Broken('as_tanh_threshold_0_9', 'activation_stats', ('saturation_and_dead',), """
        _ref_as = activation_stats
        def activation_stats(weights, x, activation="tanh"):
            _, hs, _ = _forward(weights, x, activation)
            stats = _ref_as(weights, x, activation)
            if activation == "tanh":
                for s, h in zip(stats, hs[1:]):
                    s["saturated"] = float(np.mean(np.abs(h) > 0.9))
            return stats
    """),
    Broken('as_dead_units_not_entries', 'activation_stats', ('saturation_and_dead',), """
        _ref_as = activation_stats
        def activation_stats(weights, x, activation="tanh"):
            _, hs, _ = _forward(weights, x, activation)
            stats = _ref_as(weights, x, activation)
            if activation == "relu":
                for s, h in zip(stats, hs[1:]):
                    s["dead"] = float(np.mean(np.all(h == 0, axis=0)))
            return stats
    """),
    Broken('as_unknown_activation_is_linear', 'activation_stats', ('invalid_inputs',), """
        _ref_as = activation_stats
        def activation_stats(weights, x, activation="tanh"):
            if activation not in _ACTIVATIONS:
                activation = "linear"
            return _ref_as(weights, x, activation)
    """),
    Broken('as_mutates_weights', 'activation_stats', ('no_mutation',), """
        _ref_as = activation_stats
        def activation_stats(weights, x, activation="tanh"):
            result = _ref_as(weights, x, activation)
            weights[0][0, 0] += 1.0
            return result
    """),
    Broken('dg_inverted', 'diagnose', ('boundaries', 'demo_sigmoid_small_weights_vanish', 'demo_tanh_unit_normal_explodes', 'scale_invariance', 'special_cases'), """
        _ref_dg = diagnose
        def diagnose(grad_norms, ratio=100.0):
            return _ref_dg(list(grad_norms)[::-1], ratio)
    """),
    Broken('dg_divides_before_zero_checks', 'diagnose', ('special_cases',), """
        _ref_dg = diagnose
        def diagnose(grad_norms, ratio=100.0):
            norms = [float(g) for g in grad_norms]
            if len(norms) >= 2 and all(math.isfinite(g) for g in norms):
                r = norms[0] / norms[-1]
            return _ref_dg(norms, ratio)
    """),
    Broken('dg_capitalised_verdicts', 'diagnose', ('boundaries', 'demo_relu_he_healthy', 'demo_tanh_xavier_healthy', 'scale_invariance', 'special_cases'), """
        _ref_dg = diagnose
        def diagnose(grad_norms, ratio=100.0):
            return _ref_dg(grad_norms, ratio).capitalize()
    """),
    Broken('dg_no_validation', 'diagnose', ('invalid_inputs',), """
        def diagnose(grad_norms, ratio=100.0):
            norms = [abs(float(g)) for g in grad_norms] or [1.0]
            if len(norms) < 2:
                norms = norms * 2
            first, last = norms[0], norms[-1]
            if not all(math.isfinite(g) for g in norms):
                return "exploding"
            if first == 0:
                return "vanishing"
            if last == 0:
                return "exploding"
            r = first / last
            ratio = abs(ratio)
            return "vanishing" if r < 1 / ratio else "exploding" if r > ratio else "healthy"
    """),
    Broken('dg_nan_not_exploding', 'diagnose', ('special_cases',), """
        _ref_dg = diagnose
        def diagnose(grad_norms, ratio=100.0):
            norms = [float(g) for g in grad_norms]
            if any(math.isnan(g) for g in norms) and len(norms) >= 2 and ratio > 1:
                return "healthy"
            return _ref_dg(norms, ratio)
    """),
    Broken('dg_ratio_over_mean', 'diagnose', ('boundaries', 'scale_invariance', 'special_cases'), """
        _ref_dg = diagnose
        def diagnose(grad_norms, ratio=100.0):
            norms = [float(g) for g in grad_norms]
            if len(norms) >= 2 and all(math.isfinite(g) and g > 0 for g in norms):
                mean = sum(norms) / len(norms)
                return _ref_dg([norms[0], mean], ratio)
            return _ref_dg(norms, ratio)
    """),
    Broken('cb_each_array_separately', 'clip_by_global_norm', ('tf_parity', 'values'), """
        _ref_cb = clip_by_global_norm
        def clip_by_global_norm(grads, max_norm):
            _, total = _ref_cb(grads, max_norm)
            return [_ref_cb([g], max_norm)[0][0] for g in grads], total
    """),
    Broken('cb_scales_up', 'clip_by_global_norm', ('no_scale_up', 'tf_parity', 'values'), """
        def clip_by_global_norm(grads, max_norm):
            arrays = [np.array(g, dtype=float) for g in grads]
            total = float(np.sqrt(sum(np.sum(a * a) for a in arrays)))
            coef = max_norm / (total + 1e-6)
            return [a * coef for a in arrays], total
    """),
    Broken('cb_in_place', 'clip_by_global_norm', ('no_mutation',), """
        _ref_cb = clip_by_global_norm
        def clip_by_global_norm(grads, max_norm):
            clipped, total = _ref_cb(grads, max_norm)
            for g, c in zip(grads, clipped):
                g[...] = c
            return clipped, total
    """),
    Broken('cb_without_1e_6', 'clip_by_global_norm', ('values',), """
        def clip_by_global_norm(grads, max_norm):
            arrays = [np.array(g, dtype=float) for g in grads]
            total = float(np.sqrt(sum(np.sum(a * a) for a in arrays)))
            coef = min(1.0, max_norm / total) if total > 0 else 1.0
            return [a * coef for a in arrays], total
    """),
    Broken('cb_total_after_clipping', 'clip_by_global_norm', ('tf_parity', 'values'), """
        _ref_cb = clip_by_global_norm
        def clip_by_global_norm(grads, max_norm):
            clipped, total = _ref_cb(grads, max_norm)
            return clipped, float(np.sqrt(sum(np.sum(c * c) for c in clipped)))
    """),
    Broken('cb_returns_tuple', 'clip_by_global_norm', ('shape_dtype',), """
        _ref_cb = clip_by_global_norm
        def clip_by_global_norm(grads, max_norm):
            clipped, total = _ref_cb(grads, max_norm)
            return tuple(clipped), total
    """),
)

#: computes the same thing differently: must keep full marks
CORRECT = """
def numerical_gradient(f, x, h=1e-5):
    x0 = np.asarray(x, dtype=np.float64)
    grad = np.empty(x0.shape)
    flat = grad.reshape(-1)
    for k in range(x0.size):
        e = np.zeros(x0.size)
        e[k] = h
        e = e.reshape(x0.shape)
        flat[k] = (f(x0 + e) - f(x0 - e)) / 2 / h
    return grad


def relative_error(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError("shapes differ")
    best = 0.0
    for u, v in zip(a.ravel().tolist(), b.ravel().tolist()):
        best = max(best, abs(v - u) / max(1e-8, abs(u) + abs(v)))
    return float(best)


def _phi(z, act):
    return {"linear": lambda t: t, "sigmoid": lambda t: 0.5 * (1 + np.tanh(t / 2)),
            "tanh": np.tanh, "relu": lambda t: t * (t > 0),
            "leaky_relu": lambda t: np.maximum(t, 0.01 * t)}[act](z)


def _dphi(z, act):
    if act == "sigmoid":
        e = np.exp(-np.abs(z))
        return e / (1 + e) ** 2
    if act == "tanh":
        return 1 / np.cosh(z) ** 2
    if act == "relu":
        return np.heaviside(z, 1.0)
    if act == "leaky_relu":
        return np.where(z >= 0, 1.0, 0.01)
    return np.ones_like(z)


def _fwd(weights, x, act):
    if act not in ("linear", "sigmoid", "tanh", "relu", "leaky_relu"):
        raise ValueError(act)
    ws = [np.asarray(w, dtype=np.float64) for w in weights]
    h = np.asarray(x, dtype=np.float64)
    if not ws or h.ndim != 2:
        raise ValueError("shapes")
    hs, zs = [h], []
    for i, w in enumerate(ws):
        if w.ndim != 2 or w.shape[1] != hs[-1].shape[1]:
            raise ValueError("shapes do not chain")
        z = np.einsum("nj,ij->ni", hs[-1], w)
        zs.append(z)
        if i < len(ws) - 1:
            hs.append(_phi(z, act))
    return ws, hs, zs


def mlp_gradient_norms(weights, x, activation="tanh"):
    ws, hs, zs = _fwd(weights, x, activation)
    delta = zs[-1]  # the 1/N is applied to the gradients at the end
    grads = []
    for layer in reversed(range(len(ws))):
        grads.append(delta.T @ hs[layer])
        if layer:
            delta = (delta @ ws[layer]) * _dphi(zs[layer - 1], activation)
    n = hs[0].shape[0]
    return [float(np.sqrt(np.sum((g / n) ** 2))) for g in reversed(grads)]


def activation_stats(weights, x, activation="tanh"):
    _, hs, _ = _fwd(weights, x, activation)
    out = []
    for h in hs[1:]:
        v = h.ravel()
        mean = v.sum() / v.size
        sat = 0.0
        if activation == "sigmoid":
            sat = np.count_nonzero((v < 0.01) | (v > 0.99)) / v.size
        elif activation == "tanh":
            sat = np.count_nonzero(np.abs(v) > 0.99) / v.size
        dead = np.count_nonzero(v == 0) / v.size if activation == "relu" else 0.0
        out.append({"mean": float(mean), "std": float(np.sqrt(np.mean((v - mean) ** 2))),
                    "saturated": float(sat), "dead": float(dead)})
    return out


def diagnose(grad_norms, ratio=100.0):
    # no margin at all: plain comparisons of log(first) - log(last) with log(ratio)
    g = [float(v) for v in grad_norms]
    if len(g) < 2 or min(g) < 0 or not ratio > 1:
        raise ValueError("bad input")
    if any(v != v or v == float("inf") for v in g):
        return "exploding"
    if g[0] == 0:
        return "vanishing"
    if g[-1] == 0:
        return "exploding"
    d = math.log(g[0]) - math.log(g[-1])
    if d < -math.log(ratio):
        return "vanishing"
    if d > math.log(ratio):
        return "exploding"
    return "healthy"


def clip_by_global_norm(grads, max_norm):
    total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
    coef = 1.0 if total + 1e-6 <= max_norm else max_norm / (total + 1e-6)
    return [np.asarray(g, dtype=np.float64) * coef for g in grads], total
"""

BROKEN += (
    Broken('ng_extra_axis', 'numerical_gradient', ('shape_dtype',), """
        _ref_numerical_gradient = numerical_gradient
        def numerical_gradient(f, x, h=1e-5):
            return _ref_numerical_gradient(f, x, h)[np.newaxis]
    """),
    Broken('mg_returns_array', 'mlp_gradient_norms', ('shape_dtype',), """
        _ref_mlp_gradient_norms = mlp_gradient_norms
        def mlp_gradient_norms(weights, x, activation="tanh"):
            return np.array(_ref_mlp_gradient_norms(weights, x, activation))
    """),
    Broken('as_zero_d_arrays', 'activation_stats', ('shape_dtype',), """
        _ref_activation_stats = activation_stats
        def activation_stats(weights, x, activation="tanh"):
            return [{k: np.asarray(v) for k, v in d.items()}
                    for d in _ref_activation_stats(weights, x, activation)]
    """),
    Broken('cb_returns_inputs_unclipped', 'clip_by_global_norm', ('no_mutation',), """
        _ref_clip_by_global_norm = clip_by_global_norm
        def clip_by_global_norm(grads, max_norm):
            clipped, total = _ref_clip_by_global_norm(grads, max_norm)
            if total <= max_norm:
                return list(grads), total
            return clipped, total
    """),
)
