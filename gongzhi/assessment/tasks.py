from celery import shared_task


@shared_task(name="assessment.score_closed_cases")
def score_closed_cases() -> int:
    """一件一考评 for the cases closed since the last pass (idempotent: one score row per case)."""
    from .scoring import score_closed_cases as sweep
    return sweep()
