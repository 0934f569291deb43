"""REST API of the registry: ``serializers`` (output and input shapes) and ``views`` (viewsets).

Routed by ``gongzhi/registry/api_urls.py`` under /api/. See ``views`` for the rules every
endpoint follows (scoping, masking, writes through services).
"""
