"""``python -m scripts.databuild``: rebuild the embedded data."""

import sys

from scripts.databuild.build import main

sys.exit(main())
