import sys

from orepit.cli import main

sys.exit(main())
