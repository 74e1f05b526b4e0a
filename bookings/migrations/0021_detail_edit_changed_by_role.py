from django.db import migrations, models

# Rows written before the role was a key hold it as English text at the end of the label.
SUFFIXES = {" (the booker)": "booker", " (another account)": "other_account"}
LINK_PREFIX = "Whoever opened the booking's View booking link, sent to "


def role_from_label(apps, schema_editor):
    DetailEdit = apps.get_model("bookings", "DetailEdit")
    for edit in DetailEdit.objects.filter(changed_by_role="").only("changed_by_label"):
        label = edit.changed_by_label
        if label.startswith(LINK_PREFIX):
            edit.changed_by_label, edit.changed_by_role = label.removeprefix(LINK_PREFIX), "link"
        else:
            for suffix, role in SUFFIXES.items():
                if label.endswith(suffix):
                    edit.changed_by_label, edit.changed_by_role = label.removesuffix(suffix), role
        if edit.changed_by_role:
            edit.save(update_fields=["changed_by_label", "changed_by_role"])


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0020_waiting_list_ticket_type"),
    ]

    operations = [
        migrations.AddField(
            model_name="detailedit",
            name="changed_by_role",
            field=models.CharField(
                blank=True,
                choices=[
                    ("booker", "the booker"),
                    ("other_account", "another account"),
                    ("link", "the View booking link"),
                ],
                max_length=20,
            ),
        ),
        migrations.RunPython(role_from_label, migrations.RunPython.noop),
    ]
