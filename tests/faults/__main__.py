import sys

from tests.faults.scenarios import main

sys.exit(main())
