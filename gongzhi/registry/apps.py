from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "gongzhi.registry"
    label = "registry"
    verbose_name = "County registry"
