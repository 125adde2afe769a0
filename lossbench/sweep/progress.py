"""What a person watches: the dry run's listing of the points, and the progress bar of a running sweep."""

from __future__ import annotations

import contextlib
import json
import threading

from lossbench.errors import redact
from lossbench.sweep import space, work


def describe(info, sp, study=None) -> str:
    """The dry run: points and their status, counts and an estimate of the time left (``study``: loaded already)."""
    study = study or work.load(info)
    enumerated = space.points(sp)
    on = space.keys_of(enumerated)
    by_point = {space.point_key(work.params(t), on): t for t in study.get_trials(deepcopy=False)}
    lines = [f"study {info.study_name} in {redact(info.storage)}", ""]
    keys = [space.point_key(p, on) for p in enumerated]
    keys += [k for k in by_point if k not in set(keys)]  # adaptive seeds and budget points
    c = {}
    for key in keys:  # one status per point (its latest trial): a killed attempt that was rerun counts once
        t = by_point.get(key)
        status = (t.user_attrs.get("state") or t.state.name.lower()) if t else "new"
        c[status] = c.get(status, 0) + 1
        lines.append(f"  {status:9s} " + " ".join(space.overrides(json.loads(key), sp)))
    done = [t.user_attrs["seconds"] for t in study.get_trials(deepcopy=False) if "seconds" in t.user_attrs]
    left = sum(c.get(s, 0) for s in ("new", "waiting", "running", "killed"))
    eta = (
        f"about {left * sum(done) / len(done) / 60:.1f} min of one worker" if done else "unknown until a trial finishes"
    )
    lines += ["", f"{len(keys)} points; " + ", ".join(f"{v} {k}" for k, v in sorted(c.items())), f"time left: {eta}"]
    return "\n".join(lines)


@contextlib.contextmanager
def bar(info, study=None):
    """A bar for the trials (done / total, elapsed, ETA), refreshed from the storage every second."""
    from tqdm import tqdm

    study = study or work.load(info)

    def counted() -> tuple[int, int]:  # finished points, and all points: a killed attempt is not one (it reruns)
        points = [
            t
            for t in study.get_trials(deepcopy=False)
            if not (t.state.name == "FAIL" and t.user_attrs.get("state") == "killed")
        ]
        return sum(1 for t in points if t.state.is_finished()), len(points)

    start, _ = counted()
    shown = tqdm(
        total=max(info.total, start), initial=start, desc=info.study_name, unit="trial", position=0, dynamic_ncols=True
    )
    stop = threading.Event()

    class Watch:
        @staticmethod
        def refresh():
            done, points = counted()
            if points > shown.total:  # adaptive seeds that the workers added
                shown.total = points
            shown.update(done - shown.n)

    def loop():
        while not stop.wait(1.0):
            Watch.refresh()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield Watch
    finally:
        stop.set()
        thread.join()
        Watch.refresh()
        shown.close()
