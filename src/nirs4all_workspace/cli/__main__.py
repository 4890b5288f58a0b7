"""``python -m nirs4all_workspace.cli``: the same as the ``nirs4all`` command."""

import sys

from .app import main

sys.exit(main())
