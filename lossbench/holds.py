"""``python -m lossbench.holds +experiment=camvid``: does each phantom / real-hearts conclusion hold on this
data set? (`lossbench.analysis.holds`)"""

from __future__ import annotations

import sys

from lossbench import runtime  # noqa: F401  (quiet TensorFlow before it loads)
from lossbench.analysis.holds import write
from lossbench.errors import UserError, exit_with


def main(argv: list[str]) -> int:
    experiment = next((a.split("=", 1)[1] for a in argv if a.startswith("+experiment=")), None)
    overrides = [a for a in argv if "=" in a and not a.startswith("+experiment=")]  # as the sweep was given them
    try:
        if not experiment:
            raise UserError("which experiment? - e.g. python -m lossbench.holds +experiment=camvid")
        print(f"written {write(experiment, None, overrides)}")
    except UserError as error:
        exit_with(error)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
