"""Repository functions for saved plays: a Playbook in normalised tables, and back."""

from __future__ import annotations

import secrets
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from playparse import schema
from playparse.db.models import Act, Character, Line, Play, Scene

CHARACTERS = cast(Table, Character.__table__)
ACTS = cast(Table, Act.__table__)
SCENES = cast(Table, Scene.__table__)
LINES = cast(Table, Line.__table__)


def new_play_id() -> str:
    return "play_" + secrets.token_hex(8)


async def play_for_job(session: AsyncSession, *, job_id: str) -> Play | None:
    result = await session.execute(select(Play).where(Play.job_id == job_id))
    return result.scalar_one_or_none()


async def save_playbook(
    session: AsyncSession, *, job_id: str, tenant_id: str, playbook: schema.Playbook
) -> Play:
    """Save a playbook for a job (caller commits, so the play lands whole or not at all).

    A job has at most one play: saving again returns the play already saved.
    """
    existing = await play_for_job(session, job_id=job_id)
    if existing is not None:
        return existing
    play = Play(
        id=new_play_id(),
        tenant_id=tenant_id,
        job_id=job_id,
        title=playbook.title,
        subtitle=playbook.subtitle,
        author=playbook.author,
        language=playbook.language,
    )
    session.add(play)
    await session.flush()
    # The rows below go in as Core inserts with parameter lists: through the ORM's unit of
    # work, a play of 1,200 lines took 0.6 s of the worker's event loop to save.
    if playbook.characters:
        await session.execute(
            insert(CHARACTERS),
            [
                {
                    "play_id": play.id,
                    "key": character.id,
                    "position": position,
                    "name": character.name,
                    "aliases": list(character.aliases),
                    "description": character.description,
                }
                for position, character in enumerate(playbook.characters)
            ],
        )
    lines: list[dict[str, object]] = []
    for act_position, act in enumerate(playbook.acts):
        act_id = await session.scalar(
            insert(ACTS)
            .values(play_id=play.id, position=act_position, number=act.number, title=act.title)
            .returning(ACTS.c.id)
        )
        for scene_position, scene in enumerate(act.scenes):
            scene_id = await session.scalar(
                insert(SCENES)
                .values(
                    play_id=play.id,
                    act_id=act_id,
                    position=scene_position,
                    number=scene.number,
                    title=scene.title,
                    setting=scene.setting,
                )
                .returning(SCENES.c.id)
            )
            lines += (
                {
                    "play_id": play.id,
                    "scene_id": scene_id,
                    "position": position,
                    "kind": item.type,
                    "character_keys": list(item.character_ids) if item.type == "line" else [],
                    "text": item.text,
                }
                for position, item in enumerate(scene.items)
            )
    if lines:
        await session.execute(insert(LINES), lines)
    return play


async def get_play(
    session: AsyncSession, *, play_id: str, tenant_id: str | None = None
) -> Play | None:
    play = await session.get(Play, play_id)
    if play is None or (tenant_id is not None and play.tenant_id != tenant_id):
        return None
    return play


async def load_playbook(session: AsyncSession, *, play: Play) -> schema.Playbook:
    """Rebuild the playbook/v1 document of a saved play from its tables."""
    characters = (
        await session.execute(
            select(Character).where(Character.play_id == play.id).order_by(Character.position)
        )
    ).scalars()
    acts = list(
        (
            await session.execute(select(Act).where(Act.play_id == play.id).order_by(Act.position))
        ).scalars()
    )
    scenes = list(
        (
            await session.execute(
                select(Scene).where(Scene.play_id == play.id).order_by(Scene.position)
            )
        ).scalars()
    )
    lines = (
        await session.execute(
            select(Line).where(Line.play_id == play.id).order_by(Line.scene_id, Line.position)
        )
    ).scalars()
    items_by_scene: dict[int, list[schema.LineItem | schema.DirectionItem]] = {}
    for line in lines:
        item: schema.LineItem | schema.DirectionItem = (
            schema.LineItem(character_ids=list(line.character_keys), text=line.text)
            if line.kind == "line"
            else schema.DirectionItem(text=line.text)
        )
        items_by_scene.setdefault(line.scene_id, []).append(item)
    scenes_by_act: dict[int, list[schema.Scene]] = {}
    for scene in scenes:
        scenes_by_act.setdefault(scene.act_id, []).append(
            schema.Scene(
                number=scene.number,
                title=scene.title,
                setting=scene.setting,
                items=items_by_scene.get(scene.id, []),
            )
        )
    return schema.Playbook(
        title=play.title,
        subtitle=play.subtitle,
        author=play.author,
        language=play.language,
        characters=[
            schema.Character(
                id=c.key, name=c.name, aliases=list(c.aliases), description=c.description
            )
            for c in characters
        ],
        acts=[
            schema.Act(number=a.number, title=a.title, scenes=scenes_by_act.get(a.id, []))
            for a in acts
        ],
    )
