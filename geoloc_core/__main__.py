"""`python -m geoloc_core ...`: see `python -m geoloc_core --help`."""

import sys

from .cli import main

sys.exit(main())
