"""`python -m flowdeck`: the same as the `flowdeck` command."""

import sys

from flowdeck.cli import main

sys.exit(main())
