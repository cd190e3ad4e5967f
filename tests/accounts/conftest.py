import functools

import pytest
from celery import Task


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run the block, then its on-commit callbacks, with Celery tasks executed in-process instead of published.

    `task.delay_on_commit(...)` registers `functools.partial(task.delay, ...)`; calling the task object runs its body
    here, so a test needs no worker and leaves nothing in the broker (STYLE.md c.10: no global eager mode).
    Yields the list of (task name, args) that were enqueued.
    """

    class _Runner:
        def __init__(self):
            self.enqueued: list[tuple[str, tuple]] = []

        def __enter__(self):
            self._cm = django_capture_on_commit_callbacks(execute=False)
            self.callbacks = self._cm.__enter__()
            return self

        def __exit__(self, *exc):
            self._cm.__exit__(*exc)
            if exc[0] is not None:
                return False
            for callback in self.callbacks:
                task = getattr(getattr(callback, "func", None), "__self__", None)
                if isinstance(callback, functools.partial) and isinstance(task, Task):
                    self.enqueued.append((task.name, callback.args))
                    task(*callback.args, **callback.keywords)
                else:
                    callback()
            return False

    return _Runner
