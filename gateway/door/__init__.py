"""The door: the gateway's reverse proxy, through which every ``/api/v1/*`` call reaches the
service that owns its prefix (``proxy``: the ASGI layer and its routing table; ``outbound``: the
request it forwards; ``ratelimit``: the per-caller token bucket; ``upstreams``: each service's
replicas and their balancing; ``transport``: the httpx transport on the shared aiohttp session;
``openapi``: the front ends' merged OpenAPI document). It owns no facts and copies none."""
