"""Install the default catalogue (categories and time-limit defaults) from cases/catalogue.py."""
from django.db import migrations


def install(apps, schema_editor):
    from gongzhi.cases.catalogue import install_default_catalogue

    install_default_catalogue(apps.get_model("cases", "CaseCategory"), apps.get_model("cases", "TimeLimitDefault"))


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
