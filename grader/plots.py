"""Pictures, drawn with matplotlib's Agg backend and embedded as PNG data URIs.

Nothing here computes a grade: every figure is drawn from numbers the checks,
the workers or a class's reports already produced. Each function returns a
``data:image/png;base64,...`` string (no file, no network).
"""
from __future__ import annotations

import base64
import io

__all__ = ["data_uri", "figure", "draw", "score_histogram", "pass_rates"]


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


def pass_rates(labels: list[str], rates: list[float], title: str,
               xlabel: str = "% of students passing") -> str:
    fig, ax = figure(6.4, max(1.6, 0.28 * len(labels) + 0.8))
    positions = list(range(len(labels)))
    ax.barh(positions, [100 * r for r in rates], color="#5a9e6f")
    ax.set_yticks(positions, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return data_uri(fig)


def _histogram(ax, data: dict) -> None:
    edges = data["edges"]
    ax.stairs(data["student"], edges, fill=True, alpha=0.45, color="#3b6ea8",
              label="your samples")
    if data.get("framework"):
        ax.stairs(data["framework"], edges, color="#d07a2b", linewidth=1.2,
                  label="the framework's samples")
    ax.plot(data["grid"], data["target"], color="#222", linewidth=1.0, label="the target law")
    ax.set_xlabel("w / σ0")
    ax.set_ylabel("density")
    ax.legend(fontsize=7, loc="upper right")


def _lines(ax, data: dict) -> None:
    for label, ys in data["series"].items():
        xs = [i + 1 for i, y in enumerate(ys) if y is not None]
        ax.plot(xs, [y for y in ys if y is not None], label=label, linewidth=1.1)
    if data.get("log"):
        ax.set_yscale("log")
    ax.set_xlabel(data.get("xlabel", ""))
    ax.set_ylabel(data.get("ylabel", ""))
    ax.legend(fontsize=6, ncol=2 if len(data["series"]) > 4 else 1, loc="best")


def _panels(fig, data: dict, title: str) -> None:
    panels = data["panels"]
    axes = fig.subplots(1, len(panels), sharey=True)
    for ax, (name, series) in zip(axes, panels.items()):
        _lines(ax, {**data, "series": series, "ylabel": data["ylabel"] if ax is axes[0]
                    else ""})
        ax.set_title(name, fontsize=9)
    fig.suptitle(title, fontsize=9)


_DRAW = {"histogram": _histogram, "curves": _lines}


def draw(figure_data: dict, png: bool = False):
    """The picture of a check's figure (``grader.check.Figure.to_dict``): a data URI, or
    the PNG bytes with ``png``."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    if figure_data["kind"] == "profile":
        fig = Figure(figsize=(9.0, 3.4), dpi=100, layout="constrained")
        _panels(fig, figure_data["data"], figure_data["title"])
    else:
        fig, ax = figure(6.4, 3.2)
        _DRAW[figure_data["kind"]](ax, figure_data["data"])
        ax.set_title(figure_data["title"], fontsize=9)
    if png:
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()
    return data_uri(fig)
