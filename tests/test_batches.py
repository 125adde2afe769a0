"""FACTS #19-#22: how a trial feeds `fit`, and that the faster way trains exactly as Keras's own.

`trial.batches` is Keras's array pipeline with tf.data's autotuning off (its teardown costs a
third of a cmr epoch on one core), and `run_trial` builds the optimizer before `fit` (else the
step is traced twice), and runs an epoch's steps in one compiled call (FACTS #22: no Python between
steps). None of them may change a single weight: checked here bit for bit.
"""

import keras
import numpy as np
import pytest

from lossbench.trial.passes import batches

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the TensorFlow pipeline")

X = np.arange(22, dtype=np.float32)[:, None]  # 22 rows at batch 4: a partial last batch too


class Recorder(keras.Model):
    """Records the first row of every batch it is given, and how often its step was traced."""

    seen: list = []
    traces = 0

    def train_step(self, data):
        import tensorflow as tf

        if tf.inside_function():
            type(self).traces += 1
        else:
            type(self).seen.append(int(data[0][0, 0]))
        return super().train_step(data)


def recorder(eager: bool = True):
    Recorder.seen, Recorder.traces = [], 0
    keras.utils.set_random_seed(0)
    inputs = keras.Input((1,))
    model = Recorder(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="adam", loss="mse", run_eagerly=eager)
    return model


def test_same_batches_in_the_same_order_as_fit_on_arrays():
    recorder().fit(X, X, batch_size=4, epochs=3, shuffle=True, verbose=0)
    keras_order = list(Recorder.seen)
    recorder().fit(**batches(X, X, 4, shuffle=True), epochs=3, verbose=0)
    assert Recorder.seen == keras_order
    per_epoch = len(keras_order) // 3
    assert per_epoch == 6 and keras_order[:per_epoch] != sorted(keras_order[:per_epoch])  # shuffled
    # FACTS #20: with a global seed, Keras's shuffle draws the same order every epoch
    assert keras_order[:per_epoch] == keras_order[per_epoch : 2 * per_epoch] == keras_order[2 * per_epoch :]


def test_unshuffled_lists_for_a_pack():
    recorder().fit(X, X, batch_size=4, epochs=1, shuffle=False, verbose=0)
    assert Recorder.seen == [0, 4, 8, 12, 16, 20]
    fed = batches([X, X + 100], [X, X], 4, shuffle=False)["x"]
    first = next(iter(fed))
    assert [int(first[0][0][0, 0]), int(first[0][1][0, 0])] == [0, 100]


def test_autotuning_is_off_and_the_length_known():
    fed = batches(X, X, 4, shuffle=True)
    assert fed["x"].options().autotune.enabled is False  # FACTS #19
    assert int(fed["x"].cardinality()) == 6


def test_optimizer_built_before_fit_traces_the_step_once():
    model = recorder(eager=False)
    model.fit(X, X, batch_size=4, epochs=1, verbose=0)
    assert Recorder.traces == 2  # FACTS #21: the optimizer's variables appear in the first trace
    model = recorder(eager=False)
    model.optimizer.build(model.trainable_variables)
    model.fit(X, X, batch_size=4, epochs=1, verbose=0)
    assert Recorder.traces == 1


@pytest.mark.parametrize("steps", [1, 2, 5])  # 5 = the epoch's steps (18 rows at batch 4); 2 leaves one over
def test_the_faster_way_trains_bit_for_bit_as_keras(steps):
    x = np.random.default_rng(0).normal(size=(18, 8, 8, 1)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[np.random.default_rng(1).integers(0, 3, size=(18, 8, 8))]

    def trained(fast: bool):
        keras.utils.set_random_seed(3)
        inputs = keras.Input((8, 8, 1))
        hidden = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
        model = keras.Model(inputs, keras.layers.Softmax()(keras.layers.Conv2D(3, 1)(hidden)))
        model.compile(
            optimizer=keras.optimizers.Adam(1e-2),
            loss="categorical_crossentropy",
            steps_per_execution=steps if fast else 1,
        )
        if fast:
            model.optimizer.build(model.trainable_variables)
            model.fit(**batches(x, y, 4, shuffle=True), epochs=3, verbose=0)
        else:
            model.fit(x, y, batch_size=4, epochs=3, shuffle=True, verbose=0)
        return model.get_weights()

    for slow, fast in zip(trained(False), trained(True), strict=True):
        np.testing.assert_array_equal(slow, fast)


@pytest.mark.parametrize("optimizer", ["adam", "sgd_seed"])
def test_a_trial_reusing_the_last_compiled_model_trains_as_a_fresh_one(tmp_path, optimizer):
    from conftest import tiny

    from lossbench.config import compose
    from lossbench.trial import run as trial

    def run(seed: int):
        cfg = compose([*tiny(tmp_path), "trainer.epochs=2", f"optimizer={optimizer}", f"trainer.seed={seed}"])
        return trial.run_trial(cfg)

    trial._warm.clear()
    first = run(0)
    model = trial._warm[0].model
    reused = run(1)  # only the seed differs: the same compiled model, reset
    assert trial._warm[0].model is model
    trial._warm.clear()
    fresh = run(1)
    assert trial._warm[0].model is not model
    assert (reused.curves, reused.final, reused.audit) == (fresh.curves, fresh.final, fresh.audit)
    assert reused.curves != first.curves
    run(1)
    other = trial.run_trial(compose([*tiny(tmp_path), "trainer.epochs=2", "loss=dice", f"optimizer={optimizer}"]))
    assert trial._warm[0].model is not model and other.state == "complete"  # another loss: built anew


def test_one_compiled_call_per_epoch_gives_the_trial_of_one_call_per_step(tmp_path):
    from conftest import tiny

    from lossbench.config import compose
    from lossbench.trial import run as trial

    results = []
    for steps in ("1", "epoch"):
        trial._warm.clear()
        cfg = compose([*tiny(tmp_path), "trainer.epochs=2", f"trainer.steps_per_execution={steps}"])
        results.append(trial.run_trial(cfg))
        per_epoch = -(-len(trial.load_data(cfg).train.images) // 4)
        assert trial._warm[0].model.steps_per_execution == (1 if steps == "1" else per_epoch) and per_epoch > 1
    assert (results[0].curves, results[0].final) == (results[1].curves, results[1].final)
