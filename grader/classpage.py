"""``class.html``: the page an instructor opens the morning after the deadline.

Rendered with Jinja2 from ``templates/class.html.j2``: the score histogram,
per-task and per-check pass rates, and the ten most common named mistakes.
One self-contained file (pictures embedded, no script, no network).
"""
from __future__ import annotations

__all__ = ["render", "environment", "warm"]


def environment():
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(loader=PackageLoader("grader", "templates"),
                       autoescape=select_autoescape(("html", "j2")), trim_blocks=True,
                       lstrip_blocks=True)


def warm() -> None:
    """Import what :func:`render` needs (Jinja2, matplotlib and its Agg backend; about half
    a second), ahead of time: a batch does it once a core is idle, before the last students
    are done."""
    from grader import plots

    environment()
    plots.figure(1.0, 1.0)


def render(summary: dict, settings: dict) -> str:
    from grader import plots
    from grader.contract import POINTS

    max_score = sum(sum(POINTS[t].values()) for t in settings["tasks"])
    items = summary["items"]
    pictures = {}
    if summary["scores"]:
        pictures["histogram"] = plots.score_histogram(summary["scores"], max_score)
    if summary["tasks"]:
        pictures["tasks"] = plots.pass_rates(list(summary["tasks"]),
                                             list(summary["tasks"].values()),
                                             "mean share of each task's points",
                                             "% of the task's points, averaged over students")
    hardest = sorted(items, key=lambda it: (it.pass_rate, it.id))[:15]
    if hardest:
        pictures["hardest"] = plots.pass_rates([it.id.split(".", 1)[1] for it in hardest],
                                               [it.pass_rate for it in hardest],
                                               "the 15 checks passed least often")
    return environment().get_template("class.html.j2").render(
        summary=summary, settings=settings, max_score=max_score, pictures=pictures,
        items=sorted(items, key=lambda it: it.id))
