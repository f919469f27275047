import logging.config
import os
from typing import Any

from celery import Celery
from celery.signals import (
    before_task_publish,
    celeryd_init,
    setup_logging,
    task_failure,
    task_postrun,
    task_prerun,
    task_retry,
    worker_process_init,
)

from gamingpanel.logging import request_id_var

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gamingpanel.settings")

app = Celery("gamingpanel")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _keep_django_logging(**kwargs: Any) -> None:
    """A worker and beat log as the web does (settings.LOGGING: JSON lines, the request id,
    every credential scrubbed). Celery, with no receiver here, would replace the root logger's
    handlers with its own plain-text one at start: a task's failure ("raised unexpected:
    ConnectionError(…?key=…)") and every line of the code it runs would be written as sent.
    The level is LOG_LEVEL's, not --loglevel's."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@worker_process_init.connect
def _observe(**kwargs: Any) -> None:
    """Sentry and tracing in each worker process when configured (after the fork: exporter
    threads do not survive one)."""
    from gamingpanel.observability import setup

    setup()


# A task queued while answering a request logs with that request's id (a message header).
REQUEST_ID_HEADER = "gp_request_id"


@before_task_publish.connect
def _send_request_id(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    request_id = request_id_var.get()
    if headers is not None and request_id != "-":
        headers[REQUEST_ID_HEADER] = request_id


@task_prerun.connect
def _take_request_id(task: Any = None, **kwargs: Any) -> None:
    request_id = getattr(getattr(task, "request", None), REQUEST_ID_HEADER, None)
    if isinstance(request_id, str):
        task.request.gp_request_id_token = request_id_var.set(request_id)


@task_postrun.connect
def _drop_request_id(task: Any = None, **kwargs: Any) -> None:
    token = getattr(getattr(task, "request", None), "gp_request_id_token", None)
    if token is not None:
        request_id_var.reset(token)


# Counted in every worker process (gamingpanel.metrics; imported here, when a task ends, so that
# prometheus_client is first imported after settings have read PROMETHEUS_MULTIPROC_DIR).
@task_failure.connect
def _count_failure(sender: Any = None, **kwargs: Any) -> None:
    from gamingpanel.metrics import TASK_FAILURES

    TASK_FAILURES.labels(getattr(sender, "name", "unknown")).inc()


@task_retry.connect
def _count_retry(sender: Any = None, **kwargs: Any) -> None:
    from gamingpanel.metrics import TASK_RETRIES

    TASK_RETRIES.labels(getattr(sender, "name", "unknown")).inc()


@celeryd_init.connect
def _patient_worker(conf: Any = None, **kwargs: Any) -> None:
    """A worker waits longer on each broker command than a web process: the short timeout that
    bounds an enqueue from a request (CELERY_BROKER_SOCKET_TIMEOUT) would drop a loaded worker's
    connection mid-command and leave its messages to the visibility timeout."""
    from django.conf import settings

    if conf is not None:
        conf.broker_transport_options = {
            **conf.broker_transport_options,
            "socket_timeout": settings.CELERY_WORKER_BROKER_SOCKET_TIMEOUT,
        }
