"""Celery tasks: the points expiry sweep (``sweeps.py``). Daily is enough; running it more often
or twice at once expires nothing twice."""
from celery import shared_task


@shared_task(name="volunteers.expire_points")
def expire_points() -> int:
    from .sweeps import sweep_expiry

    return sweep_expiry()
