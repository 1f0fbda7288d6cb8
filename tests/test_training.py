"""Tests for lesson4_support.training: history, progress line, timer, early stopping."""

import io
import math
import re

import pytest
import torch

from lesson4_support import training


# --------------------------------------------------------------------------- History


def test_history_records_columns_and_best_rows():
    history = training.History()
    for epoch, (loss, acc) in enumerate([(0.5, 0.8), (0.3, 0.9), (0.4, 0.85)], start=1):
        history.append(epoch=epoch, val_loss=loss, val_accuracy=acc)
    assert len(history) == 3
    assert history.metrics == ["epoch", "val_loss", "val_accuracy"]
    assert history["val_loss"] == [0.5, 0.3, 0.4]
    assert history.best("val_loss")["epoch"] == 2
    assert history.best("val_accuracy", mode="max")["val_accuracy"] == 0.9
    assert history.last()["epoch"] == 3
    assert history["epoch"] == [1, 2, 3]


def test_history_numbers_epochs_itself():
    history = training.History()
    history.append(loss=1.0)
    history.append(loss=0.5)
    assert history["epoch"] == [1, 2]


@pytest.mark.parametrize("bad", [{"loss": "0.3"}, {"loss": True}, {"loss": None}, {}])
def test_history_rejects_bad_values(bad):
    with pytest.raises((TypeError, ValueError)):
        training.History().append(**bad)


def test_history_rejects_ragged_rows_and_unknown_names():
    history = training.History()
    history.append(train_loss=0.3)
    with pytest.raises(ValueError, match="same metrics"):
        history.append(val_loss=0.2)
    with pytest.raises(ValueError, match="epochs must increase"):
        history.append(epoch=1, train_loss=0.2)
    with pytest.raises(KeyError, match="recorded metrics"):
        history["accuracy"]
    with pytest.raises(ValueError, match="mode"):
        history.best("train_loss", mode="lowest")
    with pytest.raises(IndexError):
        training.History().last()


# --------------------------------------------------------------------------- EpochProgress


def resolve_carriage_returns(text: str) -> str:
    """What a notebook viewer shows: text before a \\r on the same line is overwritten."""
    return re.sub(r"^.*\r(?=[^\n])", "", text, flags=re.MULTILINE)


def test_live_progress_leaves_one_clean_line_per_epoch():
    stream = io.StringIO()
    progress = training.EpochProgress(2, 10, steps=5, live=True, stream=stream)
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
    progress = training.EpochProgress(1, 100, steps=4, live=True, stream=stream)
    for batch in range(1, 101):
        progress.update(1, batch)
    assert stream.getvalue().count("\r") == 5  # 0% (first batch), 25%, 50%, 75%, 100%


def test_progress_when_not_live_writes_only_summaries():
    stream = io.StringIO()
    progress = training.EpochProgress(3, 5, live=False, stream=stream)
    for batch in training.iterate(range(5), progress, epoch=1):
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

    monkeypatch.setattr(training, "_in_jupyter", lambda: True)
    monkeypatch.setattr(IPython.display, "display", fake_display)
    stream = io.StringIO()
    progress = training.EpochProgress(2, 4, steps=2, stream=stream, header="fitting")
    assert progress.mode == "display"
    for epoch in (1, 2):
        for batch in range(1, 5):
            progress.update(epoch, batch)
        progress.end_epoch(epoch, loss=0.1)
    assert states[0] == "fitting" and states[-1] == "fitting"
    assert "fitting\nepoch 1/2 [##########..........]  50%" in states
    assert stream.getvalue() == "epoch 1/2  loss 0.1000\nepoch 2/2  loss 0.1000\n"  # no bar, no \r


def test_progress_defaults_to_not_live_for_a_plain_stream():
    assert training.EpochProgress(1, 1, stream=io.StringIO()).live is False


def test_progress_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n_epochs"):
        training.EpochProgress(0, 10)
    with pytest.raises(ValueError, match="n_batches"):
        training.EpochProgress(3, 2.5)
    progress = training.EpochProgress(2, 10, live=False, stream=io.StringIO())
    with pytest.raises(ValueError, match="beyond"):
        progress.update(3, 1)
    with pytest.raises(ValueError, match="beyond"):
        progress.update(1, 11)
    with pytest.raises(TypeError, match="real number"):
        progress.end_epoch(1, loss="low")
    with pytest.raises(ValueError, match="single line"):
        training.EpochProgress(1, 1, header="two\nlines")
    with pytest.raises(TypeError, match="EpochProgress"):
        list(training.iterate([1], object(), 1))


def test_format_summary():
    assert training.format_summary(3, 10, {"loss": 0.123456}, 2.0) == "epoch  3/10  loss 0.1235  2.0 s"


# --------------------------------------------------------------------------- timing


def test_timer_measures_a_block_and_per_second():
    with training.Timer("cpu") as timer:
        sum(range(1000))
    assert 0 <= timer.seconds < 5
    assert training.per_second(100, 2.0) == 50.0
    with pytest.raises(ValueError, match="positive"):
        training.per_second(100, 0.0)
    with pytest.raises(ValueError, match="negative"):
        training.per_second(-1, 1.0)


def test_timer_starts_as_nan():
    assert math.isnan(training.Timer().seconds)


# --------------------------------------------------------------------------- EarlyStopping


def test_early_stopping_fires_after_patience_epochs_without_improvement():
    stopper = training.EarlyStopping(patience=2)
    decisions = [stopper.step(v) for v in [1.0, 0.8, 0.85, 0.7, 0.75, 0.72]]
    assert decisions == [False, False, False, False, False, True]
    assert stopper.best == 0.7 and stopper.best_epoch == 4 and stopper.stopped_epoch == 6
    with pytest.raises(RuntimeError, match="already fired"):
        stopper.step(0.1)


def test_early_stopping_min_delta_and_max_mode():
    stopper = training.EarlyStopping(patience=1, min_delta=0.1)
    assert stopper.step(1.0) is False
    assert stopper.step(0.95) is True  # an improvement smaller than min_delta does not count
    up = training.EarlyStopping(patience=2, mode="max")
    assert [up.step(v) for v in [0.9, 0.95, 0.94, 0.96, 0.95, 0.95]] == [False] * 5 + [True]
    assert up.best_epoch == 4


def test_early_stopping_restores_the_best_weights():
    model = torch.nn.Linear(2, 1)
    stopper = training.EarlyStopping(patience=1)
    with torch.no_grad():
        model.weight.fill_(1.0)
    stopper.step(0.5, model)
    with torch.no_grad():
        model.weight.fill_(2.0)
    assert stopper.step(0.6, model) is True
    stopper.restore_best(model)
    assert torch.all(model.weight == 1.0)


def test_early_stopping_rejects_bad_input():
    with pytest.raises(ValueError, match="patience"):
        training.EarlyStopping(patience=0)
    with pytest.raises(ValueError, match="mode"):
        training.EarlyStopping(mode="up")
    with pytest.raises(ValueError, match="min_delta"):
        training.EarlyStopping(min_delta=-1)
    with pytest.raises(ValueError, match="NaN"):
        training.EarlyStopping().step(float("nan"))
    with pytest.raises(TypeError):
        training.EarlyStopping().step("0.3")
    with pytest.raises(RuntimeError, match="no weights"):
        training.EarlyStopping().restore_best(torch.nn.Linear(1, 1))
