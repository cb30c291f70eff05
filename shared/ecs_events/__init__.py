"""ecs-events: typed Alibaba Cloud ECS events and safe automatic remediation on Function Compute."""

__version__ = "0.1.0"
