"""The plays resource: parsed plays as saved in the database."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import SessionDep, TenantDep
from api.problems import Problem
from api.schemas import PlayPublic
from playparse.db import plays as plays_repo
from playparse.ids import is_valid_id

router = APIRouter(prefix="/api/plays", tags=["plays"])


@router.get(
    "/{play_id}",
    response_model=PlayPublic,
    responses={404: {"description": "No such play (play-not-found)"}},
)
async def get_play(play_id: str, session: SessionDep, tenant: TenantDep) -> PlayPublic:
    """A saved play with its playbook/v1 document."""
    play = (
        await plays_repo.get_play(session, play_id=play_id, tenant_id=tenant)
        if is_valid_id(play_id)
        else None
    )
    if play is None:
        raise Problem(404, "play-not-found", f"no play with id {play_id!r}")
    playbook = await plays_repo.load_playbook(session, play=play)
    return PlayPublic(
        id=play.id, job_id=play.job_id, created_at=play.created_at, playbook=playbook.export()
    )
