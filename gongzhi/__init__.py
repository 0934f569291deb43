"""Gongzhi (共治). Loads the Celery app so ``@shared_task`` binds to it (``celery -A gongzhi``)."""
from .celery import app as celery_app

__all__ = ("celery_app",)
