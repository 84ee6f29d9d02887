"""Pictures, drawn with matplotlib's Agg backend and embedded as PNG data URIs.

Nothing here computes a grade: every figure is drawn from numbers the checks,
the workers or a class's reports already produced. Each function returns a
``data:image/png;base64,...`` string (no file, no network).
"""
from __future__ import annotations

import base64
import io

__all__ = ["data_uri", "figure", "score_histogram", "pass_rates"]


def figure(width: float = 6.4, height: float = 3.2):
    """A new Agg figure and its axes (matplotlib imported here, with its Agg backend)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return fig, fig.add_subplot()


def data_uri(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def score_histogram(scores: list[float], max_score: float) -> str:
    fig, ax = figure()
    bins = [max_score * i / 20 for i in range(21)]
    ax.hist(scores, bins=bins, color="#3b6ea8", edgecolor="white")
    ax.set_xlabel("score")
    ax.set_ylabel("students")
    ax.set_xlim(0, max_score)
    ax.set_title(f"{len(scores)} students")
    return data_uri(fig)


def pass_rates(labels: list[str], rates: list[float], title: str) -> str:
    fig, ax = figure(6.4, max(1.6, 0.28 * len(labels) + 0.8))
    positions = list(range(len(labels)))
    ax.barh(positions, [100 * r for r in rates], color="#5a9e6f")
    ax.set_yticks(positions, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of students passing")
    ax.set_title(title)
    return data_uri(fig)
