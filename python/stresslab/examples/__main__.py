import sys

from stresslab.examples import main

sys.exit(main())
