"""Background work of the roster app: the retention sweep of unconfirmed uploads (Celery beat,
``settings.CELERY_BEAT_SCHEDULE``; ``gongzhi purge_rosters`` runs the same pass by hand)."""
from __future__ import annotations

import logging

from celery import shared_task

from .services import roster_purge_unconfirmed

logger = logging.getLogger(__name__)


@shared_task(name="roster.purge_unconfirmed")
def purge_unconfirmed() -> int:
    purged = roster_purge_unconfirmed()
    if purged:
        logger.info("roster retention: purged %s unconfirmed uploads", purged)
    return purged
