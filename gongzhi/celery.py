"""The Celery application.

Configuration comes from Django's settings, keys prefixed ``CELERY_`` (``CELERY_BROKER_URL``,
``CELERY_BEAT_SCHEDULE`` …). Without a broker, ``CELERY_TASK_ALWAYS_EAGER`` makes every task run
in-process, so the embedded demo needs no extra service; production runs
``celery -A gongzhi worker -B`` against Redis.
"""
from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.settings")

app = Celery("gongzhi")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
