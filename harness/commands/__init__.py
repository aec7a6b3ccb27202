"""Sub-commands of the ``harness`` command line."""
