"""``genesys-sim`` (or ``python -m genesys_sim``): serve the simulator on its own, without the product.

The product's ``erasure sim`` does the same from a checkout; this entry point is what the simulator's own
image runs (docker-compose.yml), where the product is not installed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .profiles import PROFILES, REALISTIC, build
from .server import serve


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="genesys-sim", description="Serve the Genesys Cloud simulator over HTTP.")
    parser.add_argument("--port", type=int, default=8700, help="TCP port to listen on")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("--login-port", type=int, default=None,
                        help="serve the token endpoint on this port alone, as the login.<region> host "
                             "(the API port then refuses /oauth/token); default: both on --port")
    parser.add_argument("--subjects", type=int, default=30, help="synthetic subjects to seed")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the synthetic data")
    parser.add_argument("--rate-limit", type=int, default=300, help="requests per token per window")
    parser.add_argument("--rate-window", type=float, default=60.0, help="rate window in seconds")
    parser.add_argument("--gdpr-step", type=float, default=1.0, help="seconds a GDPR request spends in each state")
    parser.add_argument("--profile", choices=PROFILES, default=REALISTIC,
                        help="realistic: the platform's awkward behaviours on (data lag, sensitive recordings, "
                             "strict limits); plain: all off")
    args = parser.parse_args(argv)
    config = build(args.profile, subjects=args.subjects, seed=args.seed, rate_limit=args.rate_limit,
                   rate_window_s=args.rate_window, gdpr_step_s=args.gdpr_step)
    login = f", token at http://{args.host}:{args.login_port}" if args.login_port is not None else ""
    print(f"Genesys simulator ({args.profile}) on http://{args.host}:{args.port}{login} (client id {config.client_id})",
          file=sys.stderr)
    serve(config, args.host, args.port, args.login_port)


if __name__ == "__main__":
    main()
