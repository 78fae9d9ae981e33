"""Small server-rendered SVG charts (matplotlib, Agg): no JavaScript on the phone.

Imported only by the chart routes, so the pages do not pay for matplotlib.
Text is kept as SVG text (``svg.fonttype = none``): the browser draws the
Chinese labels with its own fonts; a CJK font, when installed, is used for
layout. Rendered charts are cached by their data.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

_CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
)
_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts")
OWN_COLOUR = "#b0124a"
CHILDREN_COLOUR = "#6b7280"


@lru_cache(maxsize=1)
def cjk_family() -> str | None:
    """A CJK font family matplotlib can use, registering system fonts it has not seen."""
    known = {f.name for f in font_manager.fontManager.ttflist}
    for family in _CJK_FAMILIES:
        if family in known:
            return family
    # matplotlib's font cache predates fonts installed after it was built.
    for root in _FONT_DIRS:
        for path in sorted(Path(root).glob("**/*")):
            if path.suffix.lower() in {".ttc", ".otf", ".ttf"} and (
                "CJK" in path.name or path.name.startswith("wqy")
            ):
                try:
                    font_manager.fontManager.addfont(str(path))
                except (OSError, RuntimeError, ValueError):
                    continue
    known = {f.name for f in font_manager.fontManager.ttflist}
    return next((f for f in _CJK_FAMILIES if f in known), None)


_STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "huizong",  # stable ids: same data, same bytes
    "font.size": 8,
    "axes.unicode_minus": False,
}
# FastAPI runs sync routes in a thread pool; matplotlib's font cache and rc
# context are process-wide, so one chart renders at a time (each takes ~50 ms).
_RENDER_LOCK = threading.Lock()


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=100)
    fig.patch.set_alpha(0)
    return fig


def _style() -> dict:
    family = cjk_family()
    return {**_STYLE, "font.sans-serif": [family, "DejaVu Sans"]} if family else dict(_STYLE)


def _svg(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="svg", bbox_inches="tight", pad_inches=0.04,
                metadata={"Date": None, "Creator": None})
    return out.getvalue()


def _render(draw: Callable[[Figure], None], width: float, height: float) -> bytes:
    with _RENDER_LOCK, matplotlib.rc_context(_style()):
        fig = _figure(width, height)
        draw(fig)
        return _svg(fig)


def _short(period: str) -> str:
    return period[2:] if len(period) >= 6 else period


@lru_cache(maxsize=2048)
def trend_svg(
    periods: tuple[str, ...],
    own: tuple[float | None, ...],
    children: tuple[float | None, ...],
) -> bytes:
    """The unit's own figure per period, and the sum of its children where there is one."""

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        xs = range(len(periods))
        if any(v is not None for v in children):
            ax.plot(xs, [float("nan") if v is None else v for v in children],
                    color=CHILDREN_COLOUR, linestyle="--", linewidth=1, marker=".",
                    label="下级合计")
        ax.plot(xs, [float("nan") if v is None else v for v in own], color=OWN_COLOUR,
                linewidth=1.5, marker="o", markersize=3, label="本级")
        ax.set_xticks(list(xs), [_short(p) for p in periods])
        ax.tick_params(axis="both", labelsize=7, length=2)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.margins(x=0.04, y=0.15)

    return _render(draw, 3.0, 1.2)


@lru_cache(maxsize=256)
def completeness_svg(
    periods: tuple[str, ...],
    on_time: tuple[int, ...],
    late: tuple[int, ...],
    missing: tuple[int, ...],
    pending: tuple[int, ...],
) -> bytes:
    """Stacked bars: how many units of the subtree reported on time, late, not at all."""

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        xs = list(range(len(periods)))
        bottom = [0] * len(xs)
        for values, colour, label in (
            (on_time, "#15803d", "按时"),
            (late, "#d97706", "逾期"),
            (missing, "#b91c1c", "未报"),
            (pending, "#9ca3af", "未到期"),
        ):
            if any(values):
                ax.bar(xs, values, bottom=bottom, color=colour, label=label, width=0.7)
                bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        ax.set_xticks(xs, [_short(p) for p in periods])
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(axis="both", labelsize=7, length=2)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.legend(fontsize=7, frameon=False, ncols=4, loc="lower center",
                  bbox_to_anchor=(0.5, 1.0))

    return _render(draw, 4.0, 1.8)
