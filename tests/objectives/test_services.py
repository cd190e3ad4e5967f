"""OKR write services: validation with field names, publish blockers, revisions, alignment loops, audit."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts.models import AuditEvent
from objectives import services
from objectives.models import Cycle, KeyResult, Objective, Revision
from tests.factories import MembershipFactory, TeamFactory
from tests.factories_okr import CycleFactory, KeyResultFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db


def _draft(org, actor, cycle, **kw):
    return services.objective_create(
        org=org, actor=actor, cycle=cycle, title="Delight new teams", level="company", **kw
    )


def test_objective_create_defaults_owner_to_actor_and_audits(org, member, cycle):
    objective = _draft(org, member, cycle)
    assert objective.owner == member and objective.status == Objective.Status.DRAFT
    assert AuditEvent.objects.filter(organization=org, verb="objective.created", target_id=str(objective.public_id))


def test_objective_create_validation_names_fields(org, member, cycle):
    with pytest.raises(ValidationError) as exc:
        services.objective_create(org=org, actor=member, cycle=cycle, title="", level="company")
    assert "title" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.objective_create(org=org, actor=member, cycle=cycle, title="T", level="team")
    assert exc.value.message_dict == {"team": ["A team objective needs a team."]}


def test_objective_owner_must_belong_to_org(org, member, cycle, outsider):
    with pytest.raises(ValidationError) as exc:
        _draft(org, member, cycle, owner=outsider)
    assert "owner" in exc.value.message_dict


def test_publish_lists_every_blocker(org, member, cycle):
    objective = _draft(org, member, cycle, owner=None)
    with pytest.raises(ValidationError) as exc:
        services.objective_publish(org=org, actor=member, objective=objective)
    assert exc.value.messages == ["The objective has no owner.", "Add at least one key result."]
    services.objective_update(org=org, actor=member, objective=objective, owner=member)
    services.key_result_create(org=org, actor=member, objective=objective, title="Activation", target=50)
    services.key_result_create(
        org=org, actor=member, objective=objective, title="Ship v2", kind="milestone", owner=member
    )
    services.key_result_create(
        org=org, actor=member, objective=objective, title="Churn", kind="decrease", baseline=5, target=9, owner=member
    )
    with pytest.raises(ValidationError) as exc:
        services.objective_publish(org=org, actor=member, objective=objective)
    assert exc.value.messages == [
        "KR 'Activation' has no owner.",
        "KR 'Churn' is a decrease but its target is above its baseline.",
    ]
    assert KeyResult.objects.filter(objective=objective, status="active").count() == 0


def test_publish_activates_objective_and_krs(org, member, cycle):
    objective = _draft(org, member, cycle)
    kr = services.key_result_create(org=org, actor=member, objective=objective, title="A", target=10, owner=member)
    services.objective_publish(org=org, actor=member, objective=objective)
    objective.refresh_from_db()
    kr.refresh_from_db()
    assert objective.status == "active" and kr.status == "active"
    # A KR added later to a live objective with an owner goes live at once; without one it waits as a draft.
    later = services.key_result_create(org=org, actor=member, objective=objective, title="B", target=3, owner=member)
    assert later.status == "active"
    draft = services.key_result_create(org=org, actor=member, objective=objective, title="C", target=3)
    assert draft.status == "draft"


def test_key_result_activate_refuses_without_owner(org, member, cycle):
    objective = _draft(org, member, cycle)
    kr = services.key_result_create(org=org, actor=member, objective=objective, title="Activation", target=5)
    with pytest.raises(ValidationError) as exc:
        services.key_result_activate(org=org, actor=member, key_result=kr)
    assert exc.value.message_dict == {"owner": ["KR 'Activation' has no owner."]}
    services.key_result_update(org=org, actor=member, key_result=kr, owner=member)
    assert services.key_result_activate(org=org, actor=member, key_result=kr).status == "active"


def test_key_result_validation(org, member, cycle):
    objective = _draft(org, member, cycle)
    cases = [
        ({"kind": "maintain"}, "band_low"),
        ({"kind": "maintain", "band_low": 5, "band_high": 1}, "band_high"),
        ({"unit": "custom"}, "unit_label"),
        ({"weight": 0}, "weight"),
        ({"confidence": 11}, "confidence"),
        ({"baseline": "lots"}, "baseline"),
        ({"milestone_steps": ["ok", ""]}, "milestone_steps"),
        ({"kind": "sideways"}, "kind"),
    ]
    for kwargs, field in cases:
        with pytest.raises(ValidationError) as exc:
            services.key_result_create(org=org, actor=member, objective=objective, title="X", **kwargs)
        assert field in exc.value.message_dict, kwargs


def test_live_kr_change_needs_rationale_and_keeps_revision(org, member, admin, cycle):
    objective = _draft(org, member, cycle)
    kr = services.key_result_create(
        org=org, actor=member, objective=objective, title="Activation", baseline=34, target=52, owner=member
    )
    services.objective_publish(org=org, actor=member, objective=objective)
    kr.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        services.key_result_update(org=org, actor=member, key_result=kr, target=60)
    assert "rationale" in exc.value.message_dict
    kr.refresh_from_db()
    services.key_result_update(
        org=org, actor=member, key_result=kr, target=Decimal("60"), owner=admin, rationale="New market data"
    )
    revision = Revision.objects.get(key_result=kr)
    assert revision.changes == {"target": ["52", "60"], "owner": [member.user.display_name, admin.user.display_name]}
    assert revision.rationale == "New market data" and revision.author == member
    # Title changes need no rationale and leave no revision.
    services.key_result_update(org=org, actor=member, key_result=kr, title="Day-7 activation")
    assert Revision.objects.filter(key_result=kr).count() == 1
    with pytest.raises(ValidationError) as exc:
        services.key_result_update(org=org, actor=member, key_result=kr, owner=None, rationale="leaving")
    assert "owner" in exc.value.message_dict


def test_draft_kr_change_needs_no_rationale(org, member, cycle):
    objective = _draft(org, member, cycle)
    kr = services.key_result_create(org=org, actor=member, objective=objective, title="A", target=5)
    services.key_result_update(org=org, actor=member, key_result=kr, target=8)
    assert not Revision.objects.exists()


def test_alignment_refuses_loops_with_a_clear_error(org, member, cycle):
    a = _draft(org, member, cycle)
    b = services.objective_create(org=org, actor=member, cycle=cycle, title="B", level="company")
    c = services.objective_create(org=org, actor=member, cycle=cycle, title="C", level="company")
    kr_a = services.key_result_create(org=org, actor=member, objective=a, title="KR of A", target=1)
    services.objective_set_alignment(org=org, actor=member, objective=b, parent_key_result=kr_a)
    services.objective_set_alignment(org=org, actor=member, objective=c, parent_objective=b)
    with pytest.raises(ValidationError) as exc:
        services.objective_set_alignment(org=org, actor=member, objective=a, parent_objective=c)
    assert "loop" in exc.value.message_dict["parent"][0]
    assert "'C' → 'B' → 'Delight new teams'" in exc.value.message_dict["parent"][0]
    with pytest.raises(ValidationError):
        services.objective_set_alignment(org=org, actor=member, objective=a, parent_objective=a)
    with pytest.raises(ValidationError) as exc:
        services.objective_set_alignment(org=org, actor=member, objective=a, parent_objective=b, parent_key_result=kr_a)
    # Contributions are edges too: A may not contribute to a KR of C (C → B → A already).
    kr_c = services.key_result_create(org=org, actor=member, objective=c, title="KR of C", target=1)
    with pytest.raises(ValidationError) as exc:
        services.contribution_add(org=org, actor=member, objective=a, key_result=kr_c)
    assert "key_result" in exc.value.message_dict
    # Clearing the alignment works.
    services.objective_set_alignment(org=org, actor=member, objective=c)
    c.refresh_from_db()
    assert c.parent_objective is None


def test_alignment_to_other_org_is_refused(org, member, cycle, other_org):
    a = _draft(org, member, cycle)
    foreign = ObjectiveFactory(cycle=CycleFactory(organization=other_org))
    with pytest.raises(ValidationError):
        services.objective_set_alignment(org=org, actor=member, objective=a, parent_objective=foreign)


def test_contributions_add_update_remove(org, member, cycle):
    a = _draft(org, member, cycle)
    b = services.objective_create(org=org, actor=member, cycle=cycle, title="B", level="company")
    kr_b = services.key_result_create(org=org, actor=member, objective=b, title="KR of B", target=1)
    edge = services.contribution_add(org=org, actor=member, objective=a, key_result=kr_b, weight="0.5")
    assert edge.weight == Decimal("0.5")
    with pytest.raises(ValidationError) as exc:
        services.contribution_add(org=org, actor=member, objective=a, key_result=kr_b)
    assert "already contributes" in exc.value.message_dict["key_result"][0]
    with pytest.raises(ValidationError) as exc:
        services.contribution_update(org=org, actor=member, contribution=edge, weight=0)
    assert "weight" in exc.value.message_dict
    services.contribution_update(org=org, actor=member, contribution=edge, weight=2)
    services.contribution_remove(org=org, actor=member, contribution=edge)
    assert not a.contributions.exists()
    kr_a = services.key_result_create(org=org, actor=member, objective=a, title="own", target=1)
    with pytest.raises(ValidationError):
        services.contribution_add(org=org, actor=member, objective=a, key_result=kr_a)


def test_close_scores_krs(org, member, cycle):
    objective = ObjectiveFactory(cycle=cycle, owner=member)
    kr = KeyResultFactory(objective=objective, baseline=0, target=10, current=7)
    services.objective_close(org=org, actor=member, objective=objective, retrospective="Learned a lot")
    kr.refresh_from_db()
    assert kr.score == Decimal("0.70") and kr.status == "closed"


def test_delete_and_archive_audit(org, member, cycle):
    objective = ObjectiveFactory(cycle=cycle, owner=member)
    KeyResultFactory(objective=objective)
    services.objective_archive(org=org, actor=member, objective=objective)
    assert Objective.objects.get(pk=objective.pk).status == "archived"
    services.objective_delete(org=org, actor=member, objective=objective)
    assert not Objective.objects.filter(pk=objective.pk).exists()
    assert set(AuditEvent.objects.filter(organization=org).values_list("verb", flat=True)) >= {
        "objective.archived",
        "objective.deleted",
    }


def test_cycles_create_activate_close_delete(org, admin):
    year = services.cycle_create(
        org=org, actor=admin, name="FY26", kind="year", start_date=date(2026, 1, 1), end_date=date(2026, 12, 31)
    )
    q1 = services.cycle_create(
        org=org, actor=admin, name="Q1", start_date=date(2026, 1, 1), end_date=date(2026, 3, 31), parent=year
    )
    q2 = services.cycle_create(
        org=org, actor=admin, name="Q2", start_date=date(2026, 4, 1), end_date=date(2026, 6, 30), parent=year
    )
    services.cycle_activate(org=org, actor=admin, cycle=q1)
    services.cycle_activate(org=org, actor=admin, cycle=year)
    services.cycle_activate(org=org, actor=admin, cycle=q2)
    statuses = dict(Cycle.objects.for_org(org).values_list("name", "status"))
    assert statuses == {"FY26": "active", "Q1": "closed", "Q2": "active"}
    with pytest.raises(ValidationError) as exc:
        services.cycle_create(org=org, actor=admin, name="Q1", start_date=date(2026, 1, 1), end_date=date(2026, 3, 31))
    assert "__all__" in exc.value.message_dict or "name" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.cycle_create(org=org, actor=admin, name="Bad", start_date=date(2026, 5, 1), end_date=date(2026, 4, 1))
    assert "end_date" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.cycle_create(
            org=org, actor=admin, name="Q5", start_date=date(2027, 1, 1), end_date=date(2027, 3, 1), parent=year
        )
    assert "parent" in exc.value.message_dict
    ObjectiveFactory(cycle=q2)
    with pytest.raises(ValidationError):
        services.cycle_delete(org=org, actor=admin, cycle=q2)
    services.cycle_delete(org=org, actor=admin, cycle=q1)
    services.cycle_update(org=org, actor=admin, cycle=q2, name="Q2 2026")
    assert Cycle.objects.get(pk=q2.pk).name == "Q2 2026"


def test_team_visibility_needs_team(org, member, cycle):
    with pytest.raises(ValidationError) as exc:
        services.objective_create(org=org, actor=member, cycle=cycle, title="T", level="personal", visibility="team")
    assert "visibility" in exc.value.message_dict
    team = TeamFactory(organization=org)
    objective = services.objective_create(
        org=org, actor=member, cycle=cycle, title="T", level="team", team=team, visibility="team"
    )
    assert objective.team == team


def test_inactive_owner_refused(org, member, cycle):
    gone = MembershipFactory(organization=org, is_active=False)
    with pytest.raises(ValidationError):
        _draft(org, member, cycle, owner=gone)
