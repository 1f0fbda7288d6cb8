"""Tests for lesson4_support.torch_training: the progress line and the timer."""

import io
import math
import re

import pytest
import torch

from lesson4_support import torch_training


# --------------------------------------------------------------------------- EpochProgress


def resolve_carriage_returns(text: str) -> str:
    """What a notebook viewer shows: text before a \\r on the same line is overwritten."""
    return re.sub(r"^.*\r(?=[^\n])", "", text, flags=re.MULTILINE)


def test_live_progress_leaves_one_clean_line_per_epoch():
    stream = io.StringIO()
    progress = torch_training.EpochProgress(2, 10, steps=5, live=True, stream=stream)
    for epoch in (1, 2):
        for batch in range(1, 11):
            progress.update(epoch, batch)
        line = progress.end_epoch(epoch, seconds=1.25, train_loss=0.5 / epoch)
        assert line.startswith(f"epoch {epoch}/2")
    raw = stream.getvalue()
    assert "\r" in raw and "[#####" in raw  # the bar was drawn
    shown = [line.rstrip() for line in resolve_carriage_returns(raw).splitlines()]
    assert shown == ["training: up to 2 epochs of 10 batches",
                     "epoch 1/2  train_loss 0.5000  1.2 s", "epoch 2/2  train_loss 0.2500  1.2 s"]


def test_progress_updates_are_deterministic_steps():
    stream = io.StringIO()
    progress = torch_training.EpochProgress(1, 100, steps=4, live=True, stream=stream)
    for batch in range(1, 101):
        progress.update(1, batch)
    assert stream.getvalue().count("\r") == 5  # 0% (first batch), 25%, 50%, 75%, 100%


def test_progress_when_not_live_writes_only_summaries():
    stream = io.StringIO()
    progress = torch_training.EpochProgress(3, 5, live=False, stream=stream)
    for _ in progress.track(range(5), epoch=1):
        pass
    progress.end_epoch(1, val_accuracy=0.97)
    assert stream.getvalue() == "training: up to 3 epochs of 5 batches\nepoch 1/3  val_accuracy 0.9700\n"


def test_progress_in_jupyter_redraws_one_display_and_ends_on_the_header(monkeypatch):
    """In a kernel, the bar is a display updated in place; after each epoch it shows the header again."""
    import IPython.display

    states = []

    class Handle:
        def update(self, bundle, raw):
            states.append(bundle["text/plain"])

    def fake_display(bundle, raw, display_id):
        assert raw and display_id
        states.append(bundle["text/plain"])
        return Handle()

    monkeypatch.setattr(torch_training, "_in_jupyter", lambda: True)
    monkeypatch.setattr(IPython.display, "display", fake_display)
    stream = io.StringIO()
    progress = torch_training.EpochProgress(2, 4, steps=2, stream=stream, header="fitting")
    assert progress.mode == "display"
    for epoch in (1, 2):
        for batch in range(1, 5):
            progress.update(epoch, batch)
        progress.end_epoch(epoch, loss=0.1)
    assert states[0] == "fitting" and states[-1] == "fitting"
    assert "fitting\nepoch 1/2 [##########..........]  50%" in states
    assert stream.getvalue() == "epoch 1/2  loss 0.1000\nepoch 2/2  loss 0.1000\n"  # no bar, no \r


def test_progress_defaults_to_not_live_for_a_plain_stream():
    assert torch_training.EpochProgress(1, 1, stream=io.StringIO()).live is False


def test_progress_rejects_bad_arguments():
    progress = torch_training.EpochProgress(2, 10, live=False, stream=io.StringIO())
    with pytest.raises(ValueError, match="beyond"):
        progress.update(3, 1)
    with pytest.raises(ValueError, match="beyond"):
        progress.update(1, 11)


def test_epoch_line():
    assert torch_training.epoch_line(3, 10, {"loss": 0.123456}, 2.0) == "epoch  3/10  loss 0.1235  2.0 s"


# --------------------------------------------------------------------------- timing


def test_timer_measures_a_block_and_per_second():
    with torch_training.Timer("cpu") as timer:
        sum(range(1000))
    assert 0 <= timer.seconds < 5
    assert torch_training.per_second(100, 2.0) == 50.0


def test_timer_starts_as_nan():
    assert math.isnan(torch_training.Timer().seconds)


def test_operations_are_counted_forward_and_backward():
    assert torch_training.count_operations(lambda: torch.ones(3) + 1) == 2
    x = torch.ones(3, requires_grad=True)
    forward_only = torch_training.count_operations(lambda: (x * 2).sum())
    assert torch_training.count_operations(lambda: (x * 2).sum().backward()) > forward_only


def test_capture_needs_batches_on_a_cuda_device():
    model = torch.nn.Linear(4, 2)
    optimizer = torch.optim.Adam(model.parameters())
    batch = (torch.zeros(8, 4), torch.zeros(8, dtype=torch.long))
    with pytest.raises(ValueError, match="CUDA graphs record work on a CUDA device; the batches are on cpu"):
        torch_training.capture_training_step(model, optimizer, torch.nn.CrossEntropyLoss(), [batch])
