"""Shared test setup: the ``localcloud`` fixture (a local Alibaba Cloud over real HTTP) and a real redis-server
(``redis_url``, ``redis_store``)."""

pytest_plugins = ["localcloud.testing", "tests.redis_server"]
