"""`python -m harness.cli`: the same as the installed `nhtb-lab`."""
import sys

from . import main

sys.exit(main())
