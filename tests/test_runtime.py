"""`trainer.deterministic`: set before TensorFlow loads, bit-identical reruns; the machine facts recorded."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import CONF, ROOT, tiny

CODE = """
import json, os, sys
from hydra import compose, initialize_config_dir
from lossbench.runtime import configure, machine
with initialize_config_dir(config_dir=sys.argv[1], version_base="1.3"):
    cfg = compose("config", overrides=sys.argv[2:])
assert "tensorflow" not in sys.modules
configure(int(cfg.trainer.threads), bool(cfg.trainer.deterministic))
from lossbench.trial.run import run_trial
result = run_trial(cfg)
print(json.dumps({"val_loss": result.curves["val/loss"], "machine": machine(),
                  "onednn_env": os.environ.get("TF_ENABLE_ONEDNN_OPTS")}))
"""


def run(tmp_path, deterministic: bool) -> dict:
    args = [*tiny(tmp_path / "results"), "trainer.epochs=2", f"trainer.deterministic={str(deterministic).lower()}"]
    out = subprocess.run(
        [sys.executable, "-c", CODE, CONF, *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_deterministic_reruns_are_bit_identical_and_recorded(tmp_path):
    first, second = run(tmp_path, True), run(tmp_path, True)
    assert first["val_loss"] == second["val_loss"]  # to the last bit, same machine, build and threads
    assert first["onednn_env"] == "0"
    assert first["machine"]["onednn"] == "off" and first["machine"]["op_determinism"] == "on"
    assert first["machine"]["tf_threads"] == "1/1"


def test_machine_names_the_cpu_and_its_instruction_set():
    from lossbench.runtime import machine

    facts = machine()
    assert set(facts) >= {"cpu", "isa", "onednn", "tf_threads", "op_determinism", "cpu_count"}
    assert facts["cpu"] and facts["onednn"] in ("on", "off")


def test_retry_calls_again_when_another_writer_raced_and_not_when_the_error_is_its_own():
    from lossbench.runtime import Retrying, retry, transient

    calls = []

    def raced():
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError('duplicate key value violates unique constraint "tag_pk"')
        return "written"

    assert retry(raced, pause=0.0) == "written" and len(calls) == 3
    assert transient(RuntimeError("(sqlite3.OperationalError) database is locked"))
    assert not transient(ValueError("Changing param values is not allowed"))
    with pytest.raises(ValueError):  # its own problem: raised at once, called once
        retry(lambda: calls.append(2) or int("x"), pause=0.0)
    assert calls.count(2) == 1

    class Store:
        name, tries = "store", []

        def set_tag(self, key):
            self.tries.append(key)
            if len(self.tries) == 1:
                raise RuntimeError("UNIQUE constraint failed: tags.key, tags.run_uuid")
            return key

    store = Retrying(Store())
    assert store.name == "store" and store.set_tag("note") == "note" and Store.tries == ["note", "note"]


def test_a_replaced_file_is_all_or_nothing(tmp_path):
    from lossbench.runtime import replaced, write_text

    target = tmp_path / "summary.md"
    write_text(target, "the whole report\n")
    with pytest.raises(RuntimeError), replaced(target) as tmp:
        tmp.write_text("half a rep")
        raise RuntimeError("killed while writing")
    assert target.read_text() == "the whole report\n"  # the old file stands, whole
    assert [p.name for p in tmp_path.iterdir()] == ["summary.md"]  # no temporary file left
    with replaced(tmp_path / "plot.png") as tmp:
        assert tmp.suffix == ".png" and tmp.parent == tmp_path  # same folder: one rename, same format
        tmp.write_bytes(b"png")
    assert (tmp_path / "plot.png").read_bytes() == b"png"
