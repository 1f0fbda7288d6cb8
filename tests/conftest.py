"""Fixtures shared by several test modules (the root conftest.py sets up the frameworks)."""

import numpy as np
import pytest

from site_server import require_built_site, site_dir


@pytest.fixture(scope="module")
def built_site():
    """The built site's folder. Skips when ``make book`` has not run; fails instead under CI."""
    return require_built_site(site_dir())


@pytest.fixture
def random_shapes():
    """``random_shapes(seed)`` draws ``(rng, n_in, n_out, batch)`` for a small dense layer."""

    def draw(seed):
        rng = np.random.default_rng(seed)
        return rng, int(rng.integers(1, 9)), int(rng.integers(1, 7)), int(rng.integers(1, 17))

    return draw


@pytest.fixture
def saved_twice(tmp_path):
    """``saved_twice(draw, name)`` draws a figure twice, saves each copy with
    ``figures.save_figure`` into its own folder, and returns the two files' bytes."""
    import matplotlib.pyplot as plt

    from lesson4_support import figures

    def save(draw, name):
        figures.use_house_style()
        contents = []
        for folder in ("a", "b"):
            fig = draw()
            contents.append(figures.save_figure(fig, name, folder=tmp_path / folder).read_bytes())
            plt.close(fig)
        return tuple(contents)

    return save
