"""``python -m integrationsatlas.cli``."""

import sys

from integrationsatlas.cli._entry import main

sys.exit(main())
