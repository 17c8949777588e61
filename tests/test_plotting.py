"""Tests of mdlib.plotting: the book's single figure style."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import mdlib  # noqa: E402
from mdlib.plotting import COLORS, FIGSIZE, LINESTYLES, label_axes, set_style  # noqa: E402


@pytest.fixture(autouse=True)
def _restore_rcparams():
    with matplotlib.rc_context():
        yield
    plt.close("all")


def test_set_style_is_reexported():
    assert mdlib.set_style is set_style


def test_set_style_sets_rcparams():
    set_style()
    rc = matplotlib.rcParams
    assert rc["savefig.transparent"] is False
    for key in ("figure.facecolor", "axes.facecolor", "savefig.facecolor"):
        assert matplotlib.colors.to_rgba(rc[key]) == (1.0, 1.0, 1.0, 1.0), key
    assert tuple(rc["figure.figsize"]) == FIGSIZE
    assert rc["axes.grid"] is True
    cycle = rc["axes.prop_cycle"].by_key()
    assert cycle["color"] == list(COLORS)
    assert len(cycle["linestyle"]) == len(COLORS) == len(LINESTYLES)
    assert len({str(ls) for ls in cycle["linestyle"]}) == len(LINESTYLES)  # every curve differs in style


def test_colours_differ_in_greyscale():
    rgb = np.array([matplotlib.colors.to_rgb(c) for c in COLORS[:4]])
    grey = rgb @ np.array([0.299, 0.587, 0.114])
    assert np.min(np.diff(np.sort(grey))) > 0.02


def test_saved_png_is_opaque_white(tmp_path):
    set_style()
    fig, ax = plt.subplots()
    for k in range(3):
        ax.plot([0, 1], [k, k + 1], label=f"curve {k}")
    label_axes(ax, "value $v$", "revenue", title="A test figure")
    assert ax.get_title() == "A test figure"
    path = tmp_path / "fig.png"
    fig.savefig(path)
    img = mpimg.imread(path)
    assert img.shape[2] == 4 or img.shape[2] == 3
    corner = img[2, 2]
    np.testing.assert_allclose(corner[:3], 1.0)
    if img.shape[2] == 4:
        assert np.all(img[..., 3] == 1.0)  # no transparent pixel anywhere
