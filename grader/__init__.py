"""Grader of the weight-initialisation assignment.

Layers, each in its own module: ``contract`` (SPEC's names and points),
``checks`` (the battery), ``check`` (what a check is), ``stats`` (named
statistical tests), ``student``/``worker``/``sandbox``/``wire`` (running
student code in another process and bringing back plain data), ``runner``
(checks -> results), ``results`` (frozen data model), ``reporters`` (formats)
and ``cli``.
"""
__all__ = ["__version__"]
__version__ = "0.1.0"
