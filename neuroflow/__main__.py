"""``python -m neuroflow``: the same command line as the ``neuroflow`` script."""

import sys

from neuroflow.cli import main

sys.exit(main())
