"""The seed's rules and limits as default data (rows with no county); see care/defaults.py."""
from django.db import migrations

from gongzhi.care.defaults import install_defaults


def forwards(apps, schema_editor):
    install_defaults(apps.get_model("care", "ClassRule"), apps.get_model("care", "LineLimit"))


def backwards(apps, schema_editor):
    apps.get_model("care", "ClassRule").objects.filter(county=None).delete()
    apps.get_model("care", "LineLimit").objects.filter(county=None).delete()


class Migration(migrations.Migration):
    dependencies = [("care", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
