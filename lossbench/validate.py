"""``python -m lossbench.validate OVERRIDES``: every check a sweep makes before it stores anything, alone."""

import sys

from lossbench.sweep.validate import compose_or_exit

if __name__ == "__main__":
    compose_or_exit(sys.argv[1:])
