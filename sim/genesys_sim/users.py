"""Users: read, list and delete (how a former agent's profile is removed).

Current agents are `active` users, former agents (`SimConfig.former_agents`) `inactive` ones.
`DELETE /api/v2/users/{userId}` answers 200 `{}` and leaves a `deleted` user without its personal fields.
`GET /api/v2/users/{userId}` takes the SDK's `state` parameter: by default (`active`) it finds users that
are not deleted, `state=deleted` finds only deleted ones and `state=any` both (UNCONFIRMED: whether the
platform's default also returns inactive users; the simulator does). The listing filters on exactly the
given state (default `active`) and on `id`.

The conversations a user handled are not changed by deleting the user: that is what a GDPR_DELETE whose
subject carries the `userId` does.
"""

from __future__ import annotations

import copy
from functools import partial

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .error_body import genesys_error
from .limits import LIST_PAGE_SIZE_DEFAULT, LIST_PAGE_SIZE_MAX
from .listing import BadParam, int_param, listing
from .organisation import OrgStore

STATES = ("active", "inactive", "deleted", "any")


async def get_user(store: OrgStore, request: Request) -> Response:
    wanted = request.query_params.get("state", "active").lower()
    if wanted not in STATES:
        return genesys_error(request, 400, f"state must be one of {', '.join(STATES)}.")
    user = store.user(request.path_params["userId"])
    deleted = user is not None and user.get("state") == "deleted"
    if user is None or (wanted == "deleted" and not deleted) or (wanted in ("active", "inactive") and deleted):
        return genesys_error(request, 404, "User not found.", "not.found")
    return JSONResponse(user)


async def delete_user(store: OrgStore, request: Request) -> Response:
    if not store.delete_user(request.path_params["userId"]):
        return genesys_error(request, 404, "User not found.", "not.found")
    return JSONResponse({})


async def list_users(store: OrgStore, request: Request) -> Response:
    try:
        size = int_param(request.query_params, "pageSize", LIST_PAGE_SIZE_DEFAULT, 1, LIST_PAGE_SIZE_MAX)
        number = int_param(request.query_params, "pageNumber", 1, 1)
    except BadParam as exc:
        return genesys_error(request, 400, str(exc))
    wanted = request.query_params.get("state", "active").lower()
    if wanted not in STATES:
        return genesys_error(request, 400, f"state must be one of {', '.join(STATES)}.")
    ids = {i for raw in request.query_params.getlist("id") for i in raw.split(",") if i}
    with store.session() as data:
        users = [
            u
            for u in data.seed.users.values()
            if (wanted == "any" or u.get("state") == wanted) and (not ids or u["id"] in ids)
        ]
        users.sort(key=lambda u: ((u.get("name") or "").lower(), u["id"]))
        page = copy.deepcopy(users[(number - 1) * size : number * size])
    extra = {"state": wanted}
    return JSONResponse(listing(page, len(users), size, number, "/api/v2/users", extra))


def routes(store: OrgStore) -> list[Route]:
    return [
        Route("/api/v2/users", partial(list_users, store), methods=["GET"]),
        Route("/api/v2/users/{userId}", partial(get_user, store), methods=["GET"]),
        Route("/api/v2/users/{userId}", partial(delete_user, store), methods=["DELETE"]),
    ]
