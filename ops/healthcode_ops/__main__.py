import sys

from healthcode_ops.cli import main

sys.exit(main())
