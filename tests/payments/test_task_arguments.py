"""No Celery task takes a credential as an argument: a task's arguments are written in clear to
the broker (Redis), to the result backend, and to the worker's logs. A task is given an id and
loads the secret itself (a payment's purchase token, an account's keys), from the database where
secrets are encrypted."""

from __future__ import annotations

import inspect
import re
from typing import Any

from celery import shared_task

from gamingpanel.celery import app

# A parameter named like a credential. "_id"/"_pk" ends are ids, not the thing.
CREDENTIAL_NAME = re.compile(
    r"token|secret|passw|receipt|credential|ticket|key|session|cookie|authoriz|bearer|signature",
    re.IGNORECASE,
)
# (task, parameter): why it is not a credential.
NOT_CREDENTIALS = {
    (
        "apps.leaderboards.queued.rebuild_rank_index",
        "token",
    ): "a rank-index build's lock token (random, and the lock's own value in Redis already): "
    "it fences concurrent rebuilds and opens nothing",
}


def credential_parameters(task: Any) -> list[str]:
    names = inspect.signature(task.run).parameters
    return [
        name
        for name in names
        if CREDENTIAL_NAME.search(name) and not name.endswith(("_id", "_pk", "_ids"))
    ]


def project_tasks() -> dict[str, Any]:
    app.loader.import_default_modules()  # every app's tasks module, as a worker loads them
    return {
        name: task for name, task in app.tasks.items() if name.startswith(("apps.", "gamingpanel."))
    }


def test_no_task_takes_a_credential_as_an_argument():
    tasks = project_tasks()
    assert "apps.payments.tasks.finish_google_purchase" in tasks  # the registry was loaded

    found = {
        (name, parameter)
        for name, task in tasks.items()
        for parameter in credential_parameters(task)
    }

    assert found - NOT_CREDENTIALS.keys() == set(), "pass an id; load the secret in the task"
    assert NOT_CREDENTIALS.keys() <= found  # an exception no longer needed is removed


def test_the_check_sees_a_credential_parameter():
    @shared_task(name="tests.finish_with_token")
    def finish(payment_pk: int, purchase_token: str, account_secret: str) -> None: ...

    assert credential_parameters(finish) == ["purchase_token", "account_secret"]
