"""`python -m stresslab`: the stresslab command (see :mod:`stresslab.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
