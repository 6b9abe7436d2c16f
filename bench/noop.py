"""The job of the plain-RQ baselines: does nothing, so what is measured is RQ alone."""


def noop() -> None:
    return None
