"""Widgets drawn in Python. Django renders every <option> and checkbox through a template (~0.2 ms each), which
adds up on pages that list hundreds of objectives, key results or people in one form."""

from html import escape

from django import forms
from django.forms.utils import flatatt
from django.utils.safestring import mark_safe


def _selected(value) -> set[str]:
    return {str(v) for v in (value if isinstance(value, list | tuple) else [value]) if v is not None}


class FastSelect(forms.Select):
    """A <select> drawn in Python. Django's Select renders every <option> through a template (~0.2 ms each); the
    alignment pickers list hundreds of objectives and key results, and the board filters every member."""

    def render(self, name, value, attrs=None, renderer=None):
        current = _selected(value)
        attrs = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})

        def option(v, label) -> str:
            v = "" if v is None else str(v)
            selected = " selected" if v in current else ""
            return f'<option value="{escape(v)}"{selected}>{escape(str(label))}</option>'

        parts = []
        for v, label in self.choices:
            if isinstance(label, list | tuple):
                inner = "".join(option(gv, gl) for gv, gl in label)
                parts.append(f'<optgroup label="{escape(str(v))}">{inner}</optgroup>')
            else:
                parts.append(option(v, label))
        return mark_safe(f"<select{flatatt(attrs)}>{''.join(parts)}</select>")  # noqa: S308 - all escaped


class FastCheckboxes(forms.CheckboxSelectMultiple):
    """CheckboxSelectMultiple's markup (ids `<id>_<n>`, one labelled checkbox per choice), drawn in Python."""

    def render(self, name, value, attrs=None, renderer=None):
        current = _selected(value)
        attrs = self.build_attrs(self.attrs, attrs or {})
        base_id = attrs.get("id", f"id_{name}")
        rows = []
        for i, (v, label) in enumerate(self.choices):
            v = "" if v is None else str(v)
            checked = " checked" if v in current else ""
            rows.append(
                f'<div><label for="{escape(base_id)}_{i}"><input type="checkbox" name="{escape(name)}" '
                f'value="{escape(v)}" id="{escape(base_id)}_{i}"{checked}> {escape(str(label))}</label></div>'
            )
        return mark_safe(f'<div id="{escape(base_id)}">{"".join(rows)}</div>')  # noqa: S308 - all escaped
