"""The chart of a mailing's returns per week, stacked by channel, as PNG (matplotlib, Agg).

Drawn off screen and returned as bytes, so the command can write it and a flow can publish it.
"""

from __future__ import annotations

import io

from pipeline.dataset.tracking import CHANNEL_LABELS, CHANNELS, Tracking

WIDTH_IN, HEIGHT_IN, DPI = 10.0, 5.0, 100  # a 1000 x 500 pixel image
# Okabe and Ito's palette, told apart by people with any common colour blindness.
COLOURS = {"paper": "#0072B2", "paper_other": "#56B4E9", "online": "#E69F00",
           "online_variant_unknown": "#F0E442", "online_other": "#CC79A7",
           "paper_keyed": "#009E73", "phone": "#D55E00", "letter": "#999999"}


def returns_chart(tracking: Tracking) -> bytes:
    """Responses per ISO week of return, one bar per week, stacked by channel (only the channels
    that have responses), each bar's total above it."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    axes = figure.subplots()
    weeks = [week.week for week in tracking.weeks]
    positions = list(range(len(weeks)))
    bottoms = [0] * len(weeks)
    for at, channel in enumerate(CHANNELS):
        heights = [week.counts[at] for week in tracking.weeks]
        if not any(heights):
            continue
        axes.bar(positions, heights, bottom=bottoms, width=0.7, color=COLOURS[channel],
                 label=CHANNEL_LABELS[channel], edgecolor="white", linewidth=0.5)
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    for x, height in zip(positions, bottoms, strict=True):
        if height:
            axes.annotate(str(height), (x, height), xytext=(0, 3), textcoords="offset points",
                          ha="center", va="bottom", fontsize=9, color="#333333")
    total = tracking.total
    name = tracking.questionnaire_id.replace("$", r"\$")  # no mathtext from a template
    figure.suptitle(f"Returns per week: {name}", x=0.01, ha="left", fontsize=14,
                    fontweight="bold")
    copies = (f"{total.returned} of {total.printed} mailed copies returned ({total.rate:.0%})"
              if total.rate is not None else "no copies printed")
    axes.set_title(f"{copies}; {sum(bottoms)} responses in all", loc="left", fontsize=10,
                   color="#555555")
    axes.set_xlabel("ISO week of return (paper: first page read; online: submitted; keyed, "
                    "phone and letters: registered)")
    axes.set_ylabel("responses")
    axes.set_xticks(positions, weeks, rotation=45 if len(weeks) > 8 else 0,
                    ha="right" if len(weeks) > 8 else "center")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(0, max([*bottoms, 1]) * 1.15)
    axes.grid(axis="y", color="#dddddd", linewidth=0.8)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    if weeks:
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9,
                    title="channel", title_fontsize=9, alignment="left", reverse=True)
    else:
        axes.text(0.5, 0.5, "no returns yet", transform=axes.transAxes, ha="center",
                  va="center", fontsize=12, color="#777777")
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI, facecolor="white")
    return out.getvalue()
