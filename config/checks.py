"""Deployment checks (`manage.py check --deploy`): the keys must come from the environment."""

from django.core.checks import Error, Tags, register

from config.keys import CHECK_IDS, KEY_FILES, missing_from_environment


@register(Tags.security, deploy=True)
def keys_in_environment(app_configs=None, **kwargs):
    return [
        Error(
            f"环境变量 {name} 未设置:部署时必须在环境中提供该密钥(长随机串),"
            f"不能使用本机 var/{KEY_FILES[name]} 中自动生成的演示密钥。",
            hint="例如:python -c 'import secrets; print(secrets.token_urlsafe(50))'",
            id=CHECK_IDS[name],
        )
        for name in missing_from_environment()
    ]
