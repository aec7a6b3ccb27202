"""inspect-ai entry point: registers the ``pool`` and ``router`` model providers."""

from inspect_ai.model import modelapi


@modelapi(name="pool")
def pool():
    from harness.providers import PoolModelAPI

    return PoolModelAPI


@modelapi(name="router")
def router():
    from harness.providers import RouterModelAPI

    return RouterModelAPI
