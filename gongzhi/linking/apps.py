from django.apps import AppConfig


class LinkingConfig(AppConfig):
    name = "gongzhi.linking"
    label = "linking"
    verbose_name = "Linking up"
