"""Shared test setup: the ``localcloud`` fixture (a local Alibaba Cloud over real HTTP)."""

pytest_plugins = ["localcloud.testing"]
