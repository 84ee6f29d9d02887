"""``<task>.<function>.numpy_only``: the NumPy-only rule of the NumPy tasks.

A function fails when its own code uses torch, TensorFlow, Keras or JAX:
an import inside it, a name the module bound by importing from them, an
``__import__``/``importlib.import_module`` of one of them, or a framework
module that appears in the worker while the function runs. The function is
first called once on a valid input, so a stub that still raises
``NotImplementedError`` is ``not_attempted`` and code that crashes is an
error, never a pass; and the check is gated (``grader.gates``): it earns its
points only once the function gives a correct result on basic inputs.

A NumPy task's battery adds these checks with :func:`numpy_only_checks`.
"""
from __future__ import annotations

import ast
from functools import partial

from grader.check import Check, CheckFailed
from grader.contract import FRAMEWORK_MODULES
from grader.parsing import parse
from grader.student import StudentRaised, module_source

__all__ = ["numpy_only_checks", "framework_uses"]


def _root(name: str) -> str:
    return name.split(".")[0]


def _is_dynamic_import(func: ast.expr) -> bool:
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
    return name in ("__import__", "import_module")


def framework_uses(source: str, function: str) -> list[str]:
    """Where ``function`` in ``source`` uses a framework, as readable strings."""
    tree = parse(source)
    bound: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _root(alias.name) in FRAMEWORK_MODULES:
                    bound[alias.asname or _root(alias.name)] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if _root(node.module) in FRAMEWORK_MODULES:
                for alias in node.names:
                    bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    funcs = [n for n in tree.body
             if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == function]
    if not funcs:
        return []
    uses = []
    for node in ast.walk(funcs[-1]):
        if isinstance(node, ast.Import):
            uses += [f"line {node.lineno}: import {a.name}" for a in node.names
                     if _root(a.name) in FRAMEWORK_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module and \
                _root(node.module) in FRAMEWORK_MODULES:
            uses.append(f"line {node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Name) and node.id in bound:
            uses.append(f"line {node.lineno}: {node.id} (imported from {bound[node.id]})")
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func) and node.args and \
                isinstance(node.args[0], ast.Constant) and \
                _root(str(node.args[0].value)) in FRAMEWORK_MODULES:
            uses.append(f"line {node.lineno}: dynamic import of {node.args[0].value!r}")
    return sorted(set(uses), key=lambda u: int(u.split(":")[0].split()[1]))


def _numpy_only(function: str, call, student, rng) -> str:
    args, kwargs = call
    result = student.call(*args, **kwargs)
    if result.raised is not None:
        raise StudentRaised(result.raised, f"{function} on a valid input")
    uses = []
    if result.frameworks_loaded:
        uses.append("the call imported " + ", ".join(result.frameworks_loaded))
    try:
        uses += framework_uses(module_source(student), function)
    except SyntaxError as exc:  # the import would have failed first; be safe
        raise CheckFailed(f"could not parse the module: {exc}") from None
    if uses:
        raise CheckFailed(
            f"{function} must be written with NumPy only, but it uses a framework: "
            + "; ".join(uses[:5]),
            "Write the maths with NumPy (np.random.Generator methods, np.sqrt, ...); "
            "torch and Keras belong in frameworks.py only.")
    return ""


def numpy_only_checks(task: str, smoke: dict) -> tuple[Check, ...]:
    """One gated ``numpy_only`` check per function of ``smoke`` (function -> calls)."""
    return tuple(Check(f"{task}.{function}.numpy_only", "unit",
                       partial(_numpy_only, function, calls[0]), weight=0.5, gated=True)
                 for function, calls in smoke.items())
