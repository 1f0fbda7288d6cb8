"""figures.plot_decision_boundary: what it draws, and clear errors for bad input."""

import numpy as np
import pytest

from lesson4_support import figures


def points():
    X = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    return X, np.array([0, 0, 1, 1])


class LinearModel:
    """A stand-in for a fitted scikit-learn classifier with a decision function."""

    def decision_function(self, pts):
        return pts[:, 0]


def test_draws_regions_points_and_limits_around_the_data():
    X, y = points()
    ax = figures.plot_decision_boundary(LinearModel(), X, y, title="linear", margin=0.5, steps=50)
    assert ax.get_title() == "linear"
    assert ax.get_xlim() == pytest.approx((-1.5, 1.5)) and ax.get_ylim() == pytest.approx((-1.5, 1.5))
    assert len(ax.collections) >= 2 + 2       # filled regions, boundary, one scatter per class


def test_a_plain_function_works_as_a_model():
    from matplotlib.contour import ContourSet

    X, y = points()
    ax = figures.plot_decision_boundary(lambda pts: pts @ np.array([1.0, 0.0]), X, y, steps=20)
    assert ax.get_xlim() == pytest.approx((-1.5, 1.5)) and ax.get_ylim() == pytest.approx((-1.5, 1.5))
    # the boundary of "score > 0" is the vertical line x = 0, drawn over the whole height
    lines = [c for c in ax.collections if isinstance(c, ContourSet) and not c.filled]
    assert len(lines) == 1
    boundary = np.concatenate([path.vertices for path in lines[0].get_paths()])
    assert np.abs(boundary[:, 0]).max() < 0.1
    assert boundary[:, 1].min() == pytest.approx(-1.5) and boundary[:, 1].max() == pytest.approx(1.5)
    # one scatter per class, each holding that class's points
    scattered = [c.get_offsets() for c in ax.collections if not isinstance(c, ContourSet)]
    assert len(scattered) == 2
    for label, offsets in enumerate(scattered):
        np.testing.assert_array_equal(np.asarray(offsets), X[y == label])


@pytest.mark.parametrize("X", [np.zeros(4), np.zeros((4, 3)), np.zeros((2, 2, 2))])
def test_rejects_features_that_are_not_2d_points(X):
    with pytest.raises(ValueError, match=r"X must be a 2-D array of shape \(n_samples, 2\)"):
        figures.plot_decision_boundary(LinearModel(), X, np.zeros(len(X)))


def test_rejects_labels_of_the_wrong_length():
    X, y = points()
    with pytest.raises(ValueError, match="one label per row of X"):
        figures.plot_decision_boundary(LinearModel(), X, y[:3])


def test_rejects_a_model_without_a_decision_function():
    X, y = points()

    class NoScores:
        def fit(self, X, y):
            return self

    with pytest.raises(TypeError, match="cannot draw a decision boundary for NoScores"):
        figures.plot_decision_boundary(NoScores(), X, y)


def test_rejects_a_model_that_returns_the_wrong_number_of_scores():
    X, y = points()
    with pytest.raises(ValueError, match="returned 3 scores"):
        figures.plot_decision_boundary(lambda pts: np.zeros(3), X, y, steps=10)


def filled_regions(ax):
    """The filled contour set's paths, one per class region (empty where a class got no area)."""
    from matplotlib.contour import ContourSet

    (filled,) = [c for c in ax.collections if isinstance(c, ContourSet) and c.filled]
    return filled.get_paths()


def three_blobs():
    from sklearn.datasets import make_blobs

    centres = np.array([[-4.0, 0.0], [0.0, 4.0], [4.0, 0.0]])
    X, y = make_blobs(150, centers=centres, cluster_std=0.6, random_state=0)
    return X, y, centres


@pytest.mark.parametrize("kind", ["predict_proba", "decision_function"])
def test_three_classes_get_three_regions_that_agree_with_predict(kind):
    from sklearn.linear_model import LogisticRegression, Perceptron

    X, y, centres = three_blobs()
    model = (LogisticRegression() if kind == "predict_proba" else Perceptron(random_state=0)).fit(X, y)
    assert hasattr(model, kind)
    ax = figures.plot_decision_boundary(model, X, y, steps=120)
    paths = filled_regions(ax)
    assert len(paths) == 3, f"3 classes drew {len(paths)} regions"
    for label, centre in enumerate(centres):
        assert model.predict(centre[None])[0] == label
        assert paths[label].contains_point(centre), f"the centre of class {label} lies outside its region"
        others = [i for i in range(3) if i != label]
        assert not any(paths[i].contains_point(centre) for i in others)


def test_two_class_probabilities_still_split_at_one_half():
    from sklearn.linear_model import LogisticRegression

    X, y = points()
    model = LogisticRegression().fit(X, y)
    ax = figures.plot_decision_boundary(model, X, y, steps=60)
    paths = filled_regions(ax)
    assert len(paths) == 2
    xx, yy, grid = figures.grid_for(X, 0.5, 60)
    inside = paths[1].contains_points(grid)
    above = model.predict_proba(grid)[:, 1] > 0.5
    assert (inside == above).mean() > 0.97  # the same split, up to the grid cells on the line itself


def test_more_classes_than_colours_is_refused():
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = np.arange(40) % 10
    with pytest.raises(ValueError, match="at most 8 classes"):
        figures.plot_decision_boundary(lambda pts: np.zeros((len(pts), 10)), X, y, steps=10)


def three_blob_labels():
    """The three blobs and a "model" that returns each point's class label, nearest centre wins."""
    X, y, centres = three_blobs()

    def predict(pts):
        return np.linalg.norm(pts[:, None] - centres[None], axis=2).argmin(axis=1)

    return X, y, centres, predict


@pytest.mark.parametrize("as_float", [False, True])
def test_class_labels_from_a_callable_get_one_region_each(as_float):
    X, y, centres, predict = three_blob_labels()
    model = (lambda pts: predict(pts).astype(float)) if as_float else predict
    paths = filled_regions(figures.plot_decision_boundary(model, X, y, steps=120))
    assert len(paths) == 3, f"3 labels drew {len(paths)} regions"
    for label, centre in enumerate(centres):
        assert paths[label].contains_point(centre)
        assert not any(paths[i].contains_point(centre) for i in range(3) if i != label)


def test_labels_other_than_0_and_1_are_drawn_as_labels():
    X, y = points()
    y = np.where(y == 1, 2, 1)  # classes 1 and 2: a threshold at 0 would make one region
    paths = filled_regions(figures.plot_decision_boundary(lambda pts: np.where(pts[:, 0] > 0, 2, 1), X, y,
                                                          steps=40))
    assert len(paths) == 2 and paths[0].contains_point((-1, 0)) and paths[1].contains_point((1, 0))
    assert not paths[0].contains_point((1, 0))


def test_one_column_probabilities_are_refused():
    X, y = points()

    class OneColumn:
        def predict_proba(self, pts):
            return (pts[:, :1] > 0).astype(float)

    with pytest.raises(ValueError, match="predict_proba returned one column"):
        figures.plot_decision_boundary(OneColumn(), X, y, steps=10)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_undefined_scores_are_refused(bad):
    X, y = points()
    with pytest.raises(ValueError, match="NaN or infinite"):
        figures.plot_decision_boundary(lambda pts: np.where(pts[:, 0] > 0, bad, -1.0), X, y, steps=10)
    with pytest.raises(ValueError, match="NaN or infinite"):
        figures.plot_decision_boundary(lambda pts: np.full((len(pts), 3), bad), X, y, steps=10)
