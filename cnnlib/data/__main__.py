"""``python -m cnnlib.data``: check every data file; ``--write-checksums`` rewrites the
list (``make data`` does, after regenerating the files)."""

import sys

from .files import main

sys.exit(main())
