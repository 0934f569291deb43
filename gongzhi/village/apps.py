from django.apps import AppConfig


class VillageConfig(AppConfig):
    name = "gongzhi.village"
    label = "village"
    verbose_name = "Village governance"
