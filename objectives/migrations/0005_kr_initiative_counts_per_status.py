from django.db import migrations, models

# The counts trigger of 0004 also keeps the in-progress, blocked and cancelled initiatives per KR, so the map reads
# every initiative count from the KR row (it aggregated the initiatives table per request). Not started is what is
# left: total - done - in progress - blocked. Deltas, as before: concurrent writers to one KR all count.
COUNTS_FUNCTION = """
CREATE OR REPLACE FUNCTION okr_initiative_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE objectives_keyresult
        SET initiatives_total = initiatives_total - (OLD.status <> 'cancelled')::int,
            initiatives_done = initiatives_done - (OLD.status = 'done')::int,
            initiatives_in_progress = initiatives_in_progress - (OLD.status = 'in_progress')::int,
            initiatives_blocked = initiatives_blocked - (OLD.status = 'blocked')::int,
            initiatives_cancelled = initiatives_cancelled - (OLD.status = 'cancelled')::int
        WHERE id = OLD.key_result_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE objectives_keyresult
        SET initiatives_total = initiatives_total + (NEW.status <> 'cancelled')::int,
            initiatives_done = initiatives_done + (NEW.status = 'done')::int,
            initiatives_in_progress = initiatives_in_progress + (NEW.status = 'in_progress')::int,
            initiatives_blocked = initiatives_blocked + (NEW.status = 'blocked')::int,
            initiatives_cancelled = initiatives_cancelled + (NEW.status = 'cancelled')::int
        WHERE id = NEW.key_result_id;
    END IF;
    RETURN NULL;
END
$$;
UPDATE objectives_keyresult kr
SET initiatives_total = c.total, initiatives_done = c.done, initiatives_in_progress = c.in_progress,
    initiatives_blocked = c.blocked, initiatives_cancelled = c.cancelled
FROM (
    SELECT key_result_id,
           count(*) FILTER (WHERE status <> 'cancelled') AS total,
           count(*) FILTER (WHERE status = 'done') AS done,
           count(*) FILTER (WHERE status = 'in_progress') AS in_progress,
           count(*) FILTER (WHERE status = 'blocked') AS blocked,
           count(*) FILTER (WHERE status = 'cancelled') AS cancelled
    FROM initiatives_initiative GROUP BY key_result_id
) c
WHERE c.key_result_id = kr.id;
"""
# 0004's function: total and done only.
PREVIOUS_FUNCTION = """
CREATE OR REPLACE FUNCTION okr_initiative_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status <> 'cancelled' THEN
        UPDATE objectives_keyresult
        SET initiatives_total = initiatives_total - 1,
            initiatives_done = initiatives_done - (OLD.status = 'done')::int
        WHERE id = OLD.key_result_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status <> 'cancelled' THEN
        UPDATE objectives_keyresult
        SET initiatives_total = initiatives_total + 1,
            initiatives_done = initiatives_done + (NEW.status = 'done')::int
        WHERE id = NEW.key_result_id;
    END IF;
    RETURN NULL;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("objectives", "0004_kr_stored_progress_and_counts")]

    operations = [
        migrations.AddField(
            model_name="keyresult",
            name="initiatives_in_progress",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="keyresult",
            name="initiatives_blocked",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="keyresult",
            name="initiatives_cancelled",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.RunSQL(COUNTS_FUNCTION, PREVIOUS_FUNCTION),
    ]
