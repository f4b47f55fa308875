"""Users and wall tokens (``/admin``, 用户管理), for administrators only.

Add or replace a user (role, district or town, display name, password of at least 10 characters), disable or
enable one, set a new password, change a role or area (each ends that user's sessions at once); make a wall
token (shown once, as the wall's address) or revoke one. Every action asks the access function for ``admin``
and goes through ``layers.access``; nothing the browser sends is taken as who may do it.
"""

from __future__ import annotations

from enum import StrEnum

import dash
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard import context
from dashboard.components.errors import calm_message, denied_page, guarded
from dashboard.components.nav import navbar
from dashboard.i18n import norm_lang, register, t
from layers import access
from layers.errors import RiskMapError
from layers.schema import ROLES, label

dash.register_page(__name__, path="/admin", title="用户管理")

register({
    "admin.title": ("用户与大屏令牌", "Users and wall tokens"),
    "admin.users": ("用户", "Users"),
    "admin.tokens": ("大屏令牌", "Wall tokens"),
    "admin.username": ("用户名", "Username"),
    "admin.role": ("角色", "Role"),
    "admin.district": ("区县代码", "District code"),
    "admin.town": ("镇街代码", "Town code"),
    "admin.name": ("姓名", "Display name"),
    "admin.password": ("密码（至少 10 个字符）", "Password (at least 10 characters)"),
    "admin.add": ("添加或替换", "Add or replace"),
    "admin.disable": ("停用", "Disable"),
    "admin.enable": ("启用", "Enable"),
    "admin.set_password": ("设置新密码", "Set new password"),
    "admin.set_role": ("修改角色/辖区", "Change role / area"),
    "admin.label": ("名称（位置）", "Label (where it hangs)"),
    "admin.new_token": ("新建令牌", "New token"),
    "admin.revoke": ("撤销", "Revoke"),
    "admin.ref": ("令牌编号", "Token ref"),
    "admin.done": ("已保存", "Saved"),
    "admin.token_once": ("大屏地址（只显示这一次）：", "Wall address (shown only this once): "),
    "admin.col.disabled": ("已停用", "Disabled"),
    "admin.col.demo": ("演示账号", "Demo"),
    "admin.col.created": ("创建时间", "Created"),
    "admin.col.revoked": ("已撤销", "Revoked"),
    "admin.yes": ("是", "yes"),
    "admin.no": ("否", "no"),
})


class Ids(StrEnum):
    LANG = "admin-lang"
    USER = "admin-user"
    ROLE = "admin-role"
    DISTRICT = "admin-district"
    TOWN = "admin-town"
    NAME = "admin-name"
    PASSWORD = "admin-password"
    ADD = "admin-add"
    DISABLE = "admin-disable"
    ENABLE = "admin-enable"
    SET_PASSWORD = "admin-set-password"
    SET_ROLE = "admin-set-role"
    USERS = "admin-users"
    USER_MSG = "admin-user-msg"
    LABEL = "admin-label"
    TOKEN_DISTRICT = "admin-token-district"
    NEW_TOKEN = "admin-new-token"
    REF = "admin-ref"
    REVOKE = "admin-revoke"
    TOKENS = "admin-tokens"
    TOKEN_MSG = "admin-token-msg"


def _yes(v: object, lang: str) -> str:
    return t("admin.yes", lang) if v is True or (v is not None and v == v and bool(v)) else t("admin.no", lang)


def _table(headers: list[str], rows: list[list], tid: str) -> html.Table:
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in headers])),
                       html.Tbody([html.Tr([html.Td("" if c is None else str(c)) for c in r]) for r in rows])],
                      className="mini-table", id=tid)


def users_table(lang: str) -> html.Table:
    f = access.list_users(context.store())
    rows = [[r["id"], label(ROLES, str(r["role"]), lang), r.get("district_code"), r.get("town_code"),
             r.get("display_name"), _yes(r.get("disabled"), lang), _yes(r.get("demo"), lang)]
            for _, r in f.iterrows()]
    return _table([t("admin.username", lang), t("admin.role", lang), t("admin.district", lang), t("admin.town", lang),
                   t("admin.name", lang), t("admin.col.disabled", lang), t("admin.col.demo", lang)], rows, Ids.USERS)


def tokens_table(lang: str) -> html.Table:
    f = access.list_wall_tokens(context.store())
    rows = [[r["ref"], r.get("label"), r.get("district_code"), r.get("created_at"), _yes(r.get("revoked"), lang)]
            for _, r in f.iterrows()]
    return _table([t("admin.ref", lang), t("admin.label", lang), t("admin.district", lang),
                   t("admin.col.created", lang), t("admin.col.revoked", lang)], rows, Ids.TOKENS)


def _field(lang: str, key: str, id_: str, **kw) -> html.Label:
    return html.Label([t(key, lang), dcc.Input(id=id_, debounce=False, **kw)], className="admin-field")


@context.checked("admin", denied=denied_page)
def layout(lang: str | None = None, **query: str) -> html.Div:
    lang = norm_lang(lang)
    roles = [{"label": label(ROLES, r, lang), "value": r} for r in access.LOGIN_ROLES]
    users = html.Section([
        html.H2(t("admin.users", lang)),
        html.Div([
            _field(lang, "admin.username", Ids.USER, type="text"),
            html.Label([t("admin.role", lang), dcc.Dropdown(roles, "district", id=Ids.ROLE, clearable=False)],
                       className="admin-field"),
            _field(lang, "admin.district", Ids.DISTRICT, type="text"),
            _field(lang, "admin.town", Ids.TOWN, type="text"),
            _field(lang, "admin.name", Ids.NAME, type="text"),
            _field(lang, "admin.password", Ids.PASSWORD, type="password"),
        ], className="admin-form"),
        html.Div([html.Button(t(k, lang), id=i, n_clicks=0) for k, i in (
            ("admin.add", Ids.ADD), ("admin.set_password", Ids.SET_PASSWORD), ("admin.set_role", Ids.SET_ROLE),
            ("admin.disable", Ids.DISABLE), ("admin.enable", Ids.ENABLE))], className="admin-buttons"),
        html.Div(id=Ids.USER_MSG, role="status"),
        html.Div(users_table(lang), id=f"{Ids.USERS}-box"),
    ], className="panel")
    tokens = html.Section([
        html.H2(t("admin.tokens", lang)),
        html.Div([_field(lang, "admin.label", Ids.LABEL, type="text"),
                  _field(lang, "admin.district", Ids.TOKEN_DISTRICT, type="text"),
                  _field(lang, "admin.ref", Ids.REF, type="text")], className="admin-form"),
        html.Div([html.Button(t("admin.new_token", lang), id=Ids.NEW_TOKEN, n_clicks=0),
                  html.Button(t("admin.revoke", lang), id=Ids.REVOKE, n_clicks=0)], className="admin-buttons"),
        html.Div(id=Ids.TOKEN_MSG, role="status"),
        html.Div(tokens_table(lang), id=f"{Ids.TOKENS}-box"),
    ], className="panel")
    return html.Div([navbar(lang, "/admin", {"lang": lang}), dcc.Store(id=Ids.LANG, data=lang),
                     html.Div([html.H1(t("admin.title", lang)), users, tokens], className="page admin-page")])


def user_action(trig: str, username: str | None, role: str | None, district: str | None, town: str | None,
                name: str | None, password: str | None, lang: str):
    """One user action (``trig`` is the button); returns (message, users table)."""
    context.authorize("admin")
    store = context.store()
    user = (username or "").strip()
    if trig == Ids.ADD:
        access.add_user(store, user, password or "", role=role or "", district_code=district or None,
                        town_code=town or None, display_name=name or None)
    elif trig == Ids.SET_PASSWORD:
        access.set_password(store, user, password or "")
    elif trig == Ids.SET_ROLE:
        access.set_role(store, user, role=role or "", district_code=district or None, town_code=town or None)
    elif trig in (Ids.DISABLE, Ids.ENABLE):
        if trig == Ids.DISABLE and user == context.principal().id:
            raise RiskMapError("不能停用自己 (you cannot disable yourself)")
        access.set_disabled(store, user, trig == Ids.DISABLE)
    else:
        return no_update, no_update
    return html.Div(f"{t('admin.done', lang)}: {user}", className="muted"), users_table(lang)


def token_action(trig: str, label_text: str | None, district: str | None, ref: str | None, lang: str):
    """Make or revoke a wall token; returns (message, tokens table). A new token is shown once."""
    context.authorize("admin")
    store = context.store()
    if trig == Ids.NEW_TOKEN:
        token = access.issue_wall_token(store, label=(label_text or "").strip() or "wall",
                                        district_code=district or None)
        msg = html.Div([t("admin.token_once", lang), html.Code(f"/wall?token={token}", id="admin-token-url")])
    elif trig == Ids.REVOKE:
        access.revoke_wall_token(store, (ref or "").strip())
        msg = html.Div(f"{t('admin.done', lang)}: {ref}", className="muted")
    else:
        return no_update, no_update
    return msg, tokens_table(lang)


@callback(Output(Ids.USER_MSG, "children"), Output(f"{Ids.USERS}-box", "children"),
          Input(Ids.ADD, "n_clicks"), Input(Ids.SET_PASSWORD, "n_clicks"), Input(Ids.SET_ROLE, "n_clicks"),
          Input(Ids.DISABLE, "n_clicks"), Input(Ids.ENABLE, "n_clicks"),
          State(Ids.USER, "value"), State(Ids.ROLE, "value"), State(Ids.DISTRICT, "value"), State(Ids.TOWN, "value"),
          State(Ids.NAME, "value"), State(Ids.PASSWORD, "value"), State(Ids.LANG, "data"), prevent_initial_call=True)
@guarded(lambda exc: (calm_message("zh", exc), no_update))
@context.checked("admin")
def _on_user(_a, _p, _r, _d, _e, username, role, district, town, name, password, lang):
    return user_action(ctx.triggered_id, username, role, district, town, name, password, norm_lang(lang))


@callback(Output(Ids.TOKEN_MSG, "children"), Output(f"{Ids.TOKENS}-box", "children"),
          Input(Ids.NEW_TOKEN, "n_clicks"), Input(Ids.REVOKE, "n_clicks"),
          State(Ids.LABEL, "value"), State(Ids.TOKEN_DISTRICT, "value"), State(Ids.REF, "value"),
          State(Ids.LANG, "data"), prevent_initial_call=True)
@guarded(lambda exc: (calm_message("zh", exc), no_update))
@context.checked("admin")
def _on_token(_n, _r, label_text, district, ref, lang):
    return token_action(ctx.triggered_id, label_text, district, ref, norm_lang(lang))
