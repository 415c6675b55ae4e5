"""`python -m keras_se.cli`: the same as `keras-se`."""

import sys

from keras_se.cli.main import main

sys.exit(main())
