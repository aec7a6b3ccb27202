"""``harness serve``: serve a fitted router as an OpenAI-compatible endpoint."""

from __future__ import annotations

import argparse

from harness.cache import CACHE_MODES


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve a fitted router as an OpenAI-compatible chat completions endpoint",
        description=(
            "Serve POST /v1/chat/completions, GET /v1/models, GET /health and GET /metrics. A request for "
            "the router's name is routed to a pool model by the fitted router; a request naming a pool model "
            "goes to that model. Calls go through the cached gateway."
        ),
    )
    parser.add_argument("--router", required=True, metavar="FOLDER", help="folder of a fitted router")
    parser.add_argument("--pool", default="pools/local.yaml", help="pool file (default: pools/local.yaml)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port; 0 picks a free one (default: 8000)")
    cache = parser.add_mutually_exclusive_group()
    cache.add_argument("--cache-mode", choices=CACHE_MODES, default="read-write",
                       help="response cache mode (default: read-write)")
    cache.add_argument("--replay", action="store_const", const="replay", dest="cache_mode",
                       help="same as --cache-mode replay: serve cached responses only, a miss is HTTP 404")
    parser.add_argument("--cache-dir", default=None,
                        help="response cache folder (default: HARNESS_RESPONSE_CACHE or the user cache folder)")
    parser.add_argument("--router-name", default="router",
                        help="model name that clients request for routing (default: router)")
    parser.add_argument("--max-body-bytes", type=int, default=1 << 20,
                        help="larger request bodies get HTTP 413 (default: 1048576 bytes)")
    parser.add_argument("--max-embed-batch", type=int, default=32,
                        help="upper bound of queries per encoder forward pass (default: 32)")
    parser.add_argument("--embedding-cache-size", type=int, default=1024,
                        help="recent query embeddings kept in memory; 0 disables (default: 1024)")
    # One thread leaves a core to the event loop and LiteLLM, and it does not
    # collapse when other processes take the cores (see docs/benchmarks.md).
    parser.add_argument("--embed-threads", type=int, default=1,
                        help="torch threads of the encoder; 0 keeps torch's choice of one per core (default: 1)")
    parser.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    from dotenv import load_dotenv

    from harness.errors import HarnessError
    from harness.serve import RouterService, ServeConfig, create_app, run_server

    if not 0 <= args.port <= 65535:
        raise HarnessError(f"--port must be in [0, 65535], got {args.port}")
    if args.max_body_bytes < 1024:
        raise HarnessError(f"--max-body-bytes must be >= 1024, got {args.max_body_bytes}")
    if args.max_embed_batch < 1:
        raise HarnessError(f"--max-embed-batch must be >= 1, got {args.max_embed_batch}")
    if args.embed_threads < 0:
        raise HarnessError(f"--embed-threads must be >= 0, got {args.embed_threads}")
    if args.embedding_cache_size < 0:
        raise HarnessError(f"--embedding-cache-size must be >= 0, got {args.embedding_cache_size}")

    # Keys for API pools; existing environment variables win over .env.
    load_dotenv(override=False)
    config = ServeConfig(
        router_dir=args.router,
        pool=args.pool,
        cache_dir=args.cache_dir,
        cache_mode=args.cache_mode,
        router_name=args.router_name,
        max_body_bytes=args.max_body_bytes,
        max_embed_batch=args.max_embed_batch,
        embedding_cache_size=args.embedding_cache_size,
        embed_threads=args.embed_threads or None,
    )
    service = RouterService.from_config(config)
    run_server(create_app(service, max_body_bytes=config.max_body_bytes), host=args.host, port=args.port)
    return 0
