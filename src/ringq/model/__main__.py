"""`python -m ringq.model check|graph|list` (the same commands as `ringq model`)."""

import sys

from ringq.model.cli import main

sys.exit(main())
