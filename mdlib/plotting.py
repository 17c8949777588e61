"""The single figure style of the book.

Call :func:`set_style` once at the top of a chapter; every figure after it has an
opaque white background (also when saved), a light grid, readable font sizes, and a
property cycle that varies colour *and* line style together, so that curves stay
distinguishable when printed in greyscale.
"""

from __future__ import annotations

from typing import Any

import matplotlib as mpl
from cycler import cycler

__all__ = ["COLORS", "LINESTYLES", "FIGSIZE", "set_style", "label_axes"]

#: Colour-blind safe colours (Okabe and Ito), ordered so that neighbours differ in lightness.
COLORS: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
)

#: Line styles paired one-to-one with :data:`COLORS` in the property cycle.
LINESTYLES: tuple[Any, ...] = (
    "-",
    "--",
    "-.",
    ":",
    (0, (5, 1, 1, 1, 1, 1)),  # dash-dot-dot
    (0, (8, 2)),  # long dashes
    (0, (1, 3)),  # sparse dots
)

#: The default figure size in inches (width, height).
FIGSIZE: tuple[float, float] = (7.0, 4.0)

_STYLE: dict[str, Any] = {
    # sizes
    "figure.figsize": FIGSIZE,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "lines.linewidth": 2.0,
    "lines.markersize": 6,
    # opaque white backgrounds everywhere, also in saved files
    "figure.facecolor": "white",
    "figure.edgecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.edgecolor": "white",
    "savefig.transparent": False,
    # axes, grid and legend
    "axes.edgecolor": "#333333",
    "axes.labelcolor": "black",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#d9d9d9",
    "grid.linestyle": "-",
    "grid.linewidth": 0.6,
    "grid.alpha": 1.0,
    "legend.frameon": True,
    "legend.framealpha": 1.0,
    "legend.facecolor": "white",
    "legend.edgecolor": "#cccccc",
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "text.color": "black",
    "mathtext.fontset": "cm",
    "image.cmap": "cividis",
}


def set_style() -> None:
    """Apply the book's figure style to matplotlib's global settings.

    Sets opaque white figure, axes and saved-figure backgrounds
    (``savefig.transparent = False``), a light grid, font sizes for a 7 x 4 inch
    figure, and a property cycle pairing :data:`COLORS` with :data:`LINESTYLES`
    so that curves can be told apart in greyscale. Calling it again is harmless.

    Returns
    -------
    None

    Examples
    --------
    >>> import matplotlib as mpl
    >>> from mdlib import set_style
    >>> set_style()
    >>> mpl.rcParams["savefig.transparent"], mpl.rcParams["axes.facecolor"]
    (False, 'white')
    """
    mpl.rcParams.update(_STYLE)
    mpl.rcParams["axes.prop_cycle"] = cycler(color=list(COLORS)) + cycler(linestyle=list(LINESTYLES))


def label_axes(ax: Any, xlabel: str, ylabel: str, title: str | None = None) -> Any:
    """Label the axes of a figure in the book's style and return the axes.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes to label.
    xlabel, ylabel : str
        Axis labels (mathtext allowed, e.g. ``"value $v$"``).
    title : str, optional
        A title above the axes.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, for chaining.

    Raises
    ------
    TypeError
        If ``ax`` is not a matplotlib Axes, a label is not a string, or ``title`` is
        neither a string nor ``None``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from mdlib.plotting import label_axes
    >>> fig, ax = plt.subplots()
    >>> label_axes(ax, "value $v$", r"$\\varphi(v)$").get_xlabel()
    'value $v$'
    >>> plt.close(fig)
    """
    if not all(callable(getattr(ax, m, None)) for m in ("set_xlabel", "set_ylabel", "set_title")):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    for name, text in (("xlabel", xlabel), ("ylabel", ylabel)):
        if not isinstance(text, str):
            raise TypeError(f"{name} must be a string, got {text!r}")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a string or None, got {title!r}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    return ax
