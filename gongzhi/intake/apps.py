from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "gongzhi.intake"
    label = "intake"
    verbose_name = "受理渠道（群众自助、窗口热线、Open311）"
