"""OKR writes (STYLE.md c.3): keyword-only `<entity>_<verb>` services, atomic, org-checked and audited."""

from objectives.services.alignment import (
    check_no_loop,
    contribution_add,
    contribution_remove,
    contribution_update,
    objective_set_alignment,
)
from objectives.services.cycles import cycle_activate, cycle_close, cycle_create, cycle_delete, cycle_update
from objectives.services.key_results import (
    REVISED_FIELDS,
    key_result_activate,
    key_result_create,
    key_result_delete,
    key_result_update,
)
from objectives.services.objectives import (
    key_result_blockers,
    objective_archive,
    objective_close,
    objective_create,
    objective_delete,
    objective_publish,
    objective_publish_blockers,
    objective_update,
)

__all__ = [
    "REVISED_FIELDS",
    "check_no_loop",
    "contribution_add",
    "contribution_remove",
    "contribution_update",
    "cycle_activate",
    "cycle_close",
    "cycle_create",
    "cycle_delete",
    "cycle_update",
    "key_result_activate",
    "key_result_blockers",
    "key_result_create",
    "key_result_delete",
    "key_result_update",
    "objective_archive",
    "objective_close",
    "objective_create",
    "objective_delete",
    "objective_publish",
    "objective_publish_blockers",
    "objective_set_alignment",
    "objective_update",
]
