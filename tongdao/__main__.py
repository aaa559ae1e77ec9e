"""``python -m tongdao`` is the same as the ``tongdao`` command."""

import sys

from tongdao.cli import main

sys.exit(main())
