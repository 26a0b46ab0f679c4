"""`python -m freq_unlearn.leaderboard ACTION ...` (the same as `freq-unlearn leaderboard ACTION ...`)."""

import sys

from freq_unlearn.leaderboard.cli import main

sys.exit(main())
