"""Tests for lesson4_support.checks."""

import numpy as np
import pytest

from lesson4_support.checks import check_int


def test_integers_in_range_come_back_as_python_ints():
    assert check_int(np.int64(3), "steps") == 3 and type(check_int(np.int64(3), "steps")) is int
    assert check_int(0, "seed", 0) == 0
    assert check_int(6, "steps", 2, 6) == 6


@pytest.mark.parametrize("value, minimum, maximum, words", [
    (0, 1, None, "batch_size must be a positive integer, got 0"),
    (-1, 0, None, "batch_size must be an integer of at least 0, got -1"),
    (7, 2, 6, "batch_size must be an integer from 2 to 6, got 7"),
    (1, 2, 6, "batch_size must be an integer from 2 to 6, got 1"),
])
def test_out_of_range_is_a_value_error_naming_the_range(value, minimum, maximum, words):
    with pytest.raises(ValueError, match=words) as raised:
        check_int(value, "batch_size", minimum, maximum)
    assert not isinstance(raised.value, TypeError)


@pytest.mark.parametrize("value", [2.5, 3.0, "3", True, None])
def test_non_integers_are_a_type_error_naming_the_argument(value):
    with pytest.raises(TypeError, match=f"batch_size must be a positive integer, got {type(value).__name__}") as raised:
        check_int(value, "batch_size")
    assert not isinstance(raised.value, ValueError)
