"""The OpenAPI document is valid and drf-spectacular has nothing to warn about (an unannotated view, a guessed type
or a name collision would make the published schema lie to the scripts generated from it)."""

from django.core.management import call_command


def test_schema_validates_without_a_single_warning(tmp_path, db):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert "/api/v1/o/{org_slug}/objectives:" in text
    assert "/api/v1/o/{org_slug}/:" in text  # the API root
