from django.apps import AppConfig


class ResourcesConfig(AppConfig):
    name = "gongzhi.resources"
    label = "resources"
    verbose_name = "Resources and dispatch"
