"""Administration: people (role, departments, disable, password reset) and API keys."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Admin, KeyCacheDep, SessionDep
from api.errors import ERROR_RESPONSES
from api.uow import UnitOfWorkRoute
from kbsvc.auth import admin, service
from kbsvc.auth.admin import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyPublic,
    ApiKeyUpdate,
    PasswordReset,
    UserIn,
    UserPublic,
    UserUpdate,
)

router = APIRouter(
    prefix="/api/v1/admin",
    tags=["administration"],
    responses=ERROR_RESPONSES,
    route_class=UnitOfWorkRoute,
)


@router.get("/users", response_model=list[UserPublic])
def list_users(session: SessionDep, _caller: Admin) -> list[UserPublic]:
    """Everyone who can sign in to the web UI."""
    return [UserPublic.model_validate(u) for u in admin.list_users(session)]


@router.post("/users", response_model=UserPublic, status_code=201)
def add_user(body: UserIn, session: SessionDep, _caller: Admin) -> UserPublic:
    """Add a person with a role, departments and an initial password."""
    return UserPublic.model_validate(admin.add_user(session, body))


@router.patch("/users/{user_id}", response_model=UserPublic)
def update_user(user_id: int, body: UserUpdate, session: SessionDep, caller: Admin) -> UserPublic:
    """Change role, departments, display name, or disable (signs them out)."""
    actor = caller.id if caller.kind == "user" else None
    return UserPublic.model_validate(
        admin.update_user(session, user_id=user_id, data=body, actor_id=actor)
    )


@router.post("/users/{user_id}/reset-password", response_model=PasswordReset)
def reset_password(user_id: int, session: SessionDep, _caller: Admin) -> PasswordReset:
    """A new random password, shown once; the person's sessions end."""
    return admin.reset_password(session, user_id=user_id)


@router.get("/api-keys", response_model=list[ApiKeyPublic])
def list_keys(session: SessionDep, _caller: Admin) -> list[ApiKeyPublic]:
    """API keys including revoked ones (never the key itself)."""
    return [
        ApiKeyPublic.model_validate(k) for k in service.list_api_keys(session, include_revoked=True)
    ]


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=201)
def create_key(body: ApiKeyIn, session: SessionDep, _caller: Admin) -> ApiKeyCreated:
    """Create a key; `key` is shown once. A widget key needs the origins of its host pages."""
    return admin.create_key(session, body)


@router.patch("/api-keys/{key_id}", response_model=ApiKeyPublic)
def set_origins(
    key_id: int, body: ApiKeyUpdate, session: SessionDep, keys: KeyCacheDep, _caller: Admin
) -> ApiKeyPublic:
    """Change the pages (origins) a key may be used from."""
    row = admin.set_origins(session, key_id=key_id, origins=body.origins)
    keys.invalidate_after_commit(session)
    return ApiKeyPublic.model_validate(row)


@router.post("/api-keys/{key_id}/revoke", response_model=ApiKeyPublic)
def revoke_key(key_id: int, session: SessionDep, keys: KeyCacheDep, _caller: Admin) -> ApiKeyPublic:
    """Revoke a key: at once in this worker, within auth.key_check_s (2 s) on every other."""
    row = service.revoke_api_key(session, ident=str(key_id))
    keys.invalidate_after_commit(session)
    return ApiKeyPublic.model_validate(row)
