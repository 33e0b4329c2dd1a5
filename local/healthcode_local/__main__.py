import sys

from healthcode_local.cli import main

sys.exit(main())
