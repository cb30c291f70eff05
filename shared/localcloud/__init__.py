"""localcloud: a local Alibaba Cloud (ECS, SLB, MNS) that the unmodified SDKs talk to over HTTP."""
