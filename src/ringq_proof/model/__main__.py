"""`python -m ringq_proof.model check|graph|list` (the same commands as `ringq model`)."""

import sys

from ringq_proof.model.cli import main

sys.exit(main())
