"""Exception types that the command line turns into one clear message."""


class HarnessError(Exception):
    """An error caused by input or environment, reported to the user without a traceback."""


class PoolFileError(HarnessError):
    """A pool file is invalid."""


class CacheMissError(HarnessError):
    """A request was not in the cache while the cache mode is ``replay``."""


class GatewayError(HarnessError):
    """A model call failed after every retry."""
