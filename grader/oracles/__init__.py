"""The grader's own answers: SPEC's rules wrapped around PyTorch.

One module per NumPy task. Each function has the name, signature and
semantics of the SPEC function it stands for, and is used in two places:
the checks compare a student's values with it, and the worker hands it to a
student function in place of the *other* SPEC functions of its module (SPEC:
a bug in a helper is graded once, in the helper). Where PyTorch has the
semantics (``torch.nn.init``, ``torch.nn.functional.batch_norm`` and its
autograd, ``torch.nn.utils.clip_grad_norm_``) the oracle calls it in float64;
where SPEC's rules differ (its ``ValueError`` rules, Keras' conventions,
new arrays) the oracle applies them around the call; what no framework
computes (``diagnose``'s label) is a closed form on the numbers given.

torch is imported when an oracle is first called, never at import time.
"""
