"""The MLflow side of one `lossbench.train`, in a process of its own while the trainer trains (`Logger`)."""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf

from lossbench.errors import UserError
from lossbench.sweep.tracking.runs import TrialRun, setup


def serve(cfg_yaml: str, name: str, conn) -> None:
    """The MLflow side of one `lossbench.train`, in a process of its own (`Logger`).

    It imports MLflow while the trainer imports TensorFlow, and opens the store and the run at the
    first epoch, while the trainer trains (on a second core, that time is hidden); logs each epoch as it
    comes, then the result, the plots, and closes the run. It answers ``("done", run_id)``.
    """
    from lossbench.trial.audit import first_line

    try:
        cfg = OmegaConf.create(cfg_yaml)
        run, epochs, machine = None, 0, None
        while True:
            kind, payload = conn.recv()
            if kind == "abort":  # the trial never started: no store is touched
                return
            if kind == "machine":  # the trainer's machine facts: this process never loads TensorFlow
                machine = payload
                continue
            run = run or TrialRun(cfg, name, setup(cfg, cfg.name), machine=machine)
            if kind == "epoch":
                run.log_epoch(*payload)
                epochs += 1
            else:
                run.log_result(payload, epochs)
                run.close(payload.state)
                conn.send(("done", run.run_id))
                return
    except Exception as error:  # the trainer prints it; the trial's figures are still printed
        conn.send(("error", first_line(error)))


class Logger:
    """The trainer's end of `serve`: send epochs and the result, wait for the run id.

    Only where this process may use a second core: on one core the logging process would take
    its imports' time from the training, and `lossbench.train` logs in its own process instead.
    """

    def __init__(self, cfg: DictConfig, name: str):
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=serve, args=(OmegaConf.to_yaml(cfg, resolve=True), name, child), daemon=True
        )
        self.process.start()

    def machine(self, tags: dict) -> None:
        self.conn.send(("machine", tags))

    def epoch(self, epoch: int, row: dict) -> None:
        self.conn.send(("epoch", (epoch, row)))

    def result(self, result) -> str:
        """Send the result (plain attributes: the logger never imports TensorFlow) and return the run id."""
        from types import SimpleNamespace

        self.conn.send(("result", SimpleNamespace(**vars(result))))
        while not self.conn.poll(1.0):
            if not self.process.is_alive():
                raise UserError("the MLflow logging process ended without logging the run - run again")
        kind, value = self.conn.recv()
        self.process.join()
        if kind == "error":
            raise UserError(f"MLflow logging failed: {value} - check tracking.uri")
        return value

    def abort(self) -> None:
        self.conn.send(("abort", None))
        self.process.join()
