"""Workers: what executes runs (in-process pool, or Celery workers in distributed mode)."""
