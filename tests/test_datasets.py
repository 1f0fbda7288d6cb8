"""Tests for lesson4_support.datasets: MNIST's fixed split, the float conversion, toy data."""

import numpy as np
import pytest

from lesson4_support import datasets


def test_split_indices_are_disjoint_complete_and_seeded():
    train, val = datasets.split_indices(100, 20, seed=1)
    assert len(train) == 80 and len(val) == 20
    assert sorted(np.r_[train, val].tolist()) == list(range(100))
    np.testing.assert_array_equal(datasets.split_indices(100, 20, seed=1)[1], val)
    assert not np.array_equal(datasets.split_indices(100, 20, seed=2)[1], val)


@pytest.mark.parametrize("n, n_val, error", [(0, 1, ValueError), (10, 0, ValueError), (10, 10, ValueError),
                                             (10, 2.5, TypeError)])
def test_split_indices_rejects_bad_sizes(n, n_val, error):
    with pytest.raises(error, match="n_val" if n else "n must"):
        datasets.split_indices(n, n_val)


def test_to_float_matches_totensor_and_normalize():
    from torchvision import transforms

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 28, 28), dtype=np.uint8)
    pipeline = transforms.Compose([transforms.ToTensor(), transforms.Normalize((datasets.MNIST_MEAN,),
                                                                              (datasets.MNIST_STD,))])
    expected = np.stack([pipeline(img).numpy()[0] for img in images])
    np.testing.assert_allclose(datasets.to_float(images), expected, atol=1e-6)
    assert datasets.to_float(images, normalize=False).max() <= 1.0
    assert datasets.to_float(images, flatten=True).shape == (3, 784)


def test_to_float_rejects_wrong_dtype_and_shape():
    with pytest.raises(TypeError, match="uint8"):
        datasets.to_float(np.zeros((2, 28, 28), dtype=np.float32))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        datasets.to_float(np.zeros(5, dtype=np.uint8))


def test_torch_tensors_shapes_and_mismatch():
    import torch

    images = np.zeros((4, 28, 28), dtype=np.uint8)
    x, y = datasets.torch_tensors(images, np.arange(4))
    assert x.shape == (4, 784) and x.dtype == torch.float32 and y.dtype == torch.int64
    x, _ = datasets.torch_tensors(images, np.arange(4), flatten=False)
    assert x.shape == (4, 1, 28, 28)
    with pytest.raises(ValueError, match="4 images but 3 labels"):
        datasets.torch_tensors(images, np.arange(3))


@pytest.mark.parametrize("name", datasets.TOY_DATASETS)
def test_toy_data_sets_are_two_dimensional_and_seeded(name):
    X, y = datasets.toy_data(name, 60, seed=3)
    assert X.shape == (60, 2) and y.shape == (60,)
    assert set(np.unique(y)) <= set(range(4)) and len(np.unique(y)) >= 2
    X2, _ = datasets.toy_data(name, 60, seed=3)
    np.testing.assert_array_equal(X, X2)


def test_toy_data_rejects_unknown_names_and_bad_sizes():
    with pytest.raises(ValueError, match="unknown toy data set 'spiral'"):
        datasets.toy_data("spiral")
    with pytest.raises(ValueError, match="n_samples"):
        datasets.toy_data("moons", 2)
    with pytest.raises(ValueError, match="noise"):
        datasets.toy_data("moons", noise=-0.1)
