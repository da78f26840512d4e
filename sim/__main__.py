"""``python -m sim``: the ``pingan`` command line, for environments without the script on PATH."""

import sys

from sim.cli import main

if __name__ == "__main__":
    sys.exit(main())
