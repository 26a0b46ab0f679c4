"""`python -m freq_unlearn.unlearn_methods ARGS` == `freq-unlearn unlearn ARGS` (handy for accelerate launch)."""

import sys

from freq_unlearn.unlearn_methods.cli import main

sys.exit(main())
