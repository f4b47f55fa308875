"""Both languages for every visible string; zh-CN is the default.

Each page or component registers its strings once at import: ``register({"key": ("中文", "English")})``;
``t("key", lang)`` returns one. A test checks every registered key has both texts.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
_STRINGS: dict[str, tuple[str, str]] = {}


def register(strings: Mapping[str, tuple[str, str]]) -> None:
    """Add strings; registering the same key with different text is an error (two modules disagreeing)."""
    for key, pair in strings.items():
        if len(pair) != 2 or not all(isinstance(s, str) and s for s in pair):
            raise ValueError(f"string {key!r} needs a non-empty zh and en text, got {pair!r}")
        if key in _STRINGS and _STRINGS[key] != tuple(pair):
            raise ValueError(f"string {key!r} registered twice with different texts: {_STRINGS[key]} / {pair}")
        _STRINGS[key] = (pair[0], pair[1])


def t(key: str, lang: str | None = None) -> str:
    """The text of ``key`` in ``lang`` (zh when unknown)."""
    try:
        zh, en = _STRINGS[key]
    except KeyError:
        raise KeyError(f"no translation registered for {key!r}") from None
    return en if lang == "en" else zh


def all_strings() -> dict[str, tuple[str, str]]:
    return dict(_STRINGS)


def norm_lang(lang: str | None) -> str:
    return lang if lang in LANGS else DEFAULT_LANG


def lang_from_search(search: str | None) -> str:
    """Language from a URL query string such as ``?district=420102&lang=en``."""
    params = dict(parse_qsl((search or "").lstrip("?")))
    return norm_lang(params.get("lang"))


def with_query(path: str, search: str | None, **changes: str | None) -> str:
    """``path`` with the query ``search`` changed: a value of None removes a key."""
    params = dict(parse_qsl((search or "").lstrip("?")))
    for k, v in changes.items():
        if v is None:
            params.pop(k, None)
        else:
            params[k] = v
    return path + ("?" + urlencode(params) if params else "")


register({
    "app.title": ("城市安全生产风险一张图", "City Work-Safety Risk Map"),
    "app.short": ("安全风险一张图", "Risk Map"),
    "nav.map": ("一张图", "Map"),
    "nav.coverage": ("检查覆盖", "Coverage"),
    "nav.plan": ("检查计划", "Planning"),
    "nav.wall": ("指挥大屏", "Wall"),
    "nav.logout": ("退出", "Log out"),
    "nav.admin": ("用户管理", "Users"),
    "nav.lang": ("English", "中文"),
    "nav.user": ("用户", "User"),
    "role.admin": ("系统管理员", "Administrator"),
    "role.command": ("指挥中心", "Command centre"),
    "role.district": ("区县", "District"),
    "role.town": ("镇街", "Town"),
    "role.planner": ("计划员", "Planner"),
    "role.wall": ("大屏", "Wall display"),
    "login.locked": ("登录失败次数过多，请 {minutes} 分钟后再试", "Too many failed logins: try again in {minutes} min"),
    "login.demo": ("演示账号（密码 demo）仅用于示范城市，正式部署请删除", "Demo accounts (password demo) are for the demo city "
                   "only: remove them in a real deployment"),
    "wall.bad_token": ("大屏令牌无效或已撤销", "The wall token is unknown or has been revoked"),
    "login.title": ("登录", "Log in"),
    "login.user": ("用户名", "Username"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Log in"),
    "login.failed": ("用户名或密码错误", "Wrong username or password"),
    "login.no_users": ("此存储中还没有用户，请用 python -m layers user add 创建",
                       "This store has no users yet; create one with python -m layers user add"),
    "error.calm": ("暂时无法显示，请稍后再试；详情已记录在日志中",
                   "This cannot be shown right now; please try again. Details are in the log."),
    "error.denied": ("您无权查看该区域", "You may not view this area"),
    "error.role": ("您的角色不能执行此操作（例如制定和保存计划需由计划员进行）",
                   "Your role may not do this (making and saving plans, for example, is for planners)"),
    "error.not_found": ("页面不存在", "Page not found"),
})


def dropdown_labels(lang: str | None) -> dict[str, str]:
    """The texts dcc.Dropdown draws itself ("Select All", "{num_selected} selected", "Search", …) in ``lang``."""
    keys = ("select_all", "deselect_all", "selected_count", "search", "clear_search", "clear_selection",
            "no_options_found")
    return {k: t(f"dropdown.{k}", lang) for k in keys}


register({
    "dropdown.select_all": ("全选", "Select all"),
    "dropdown.deselect_all": ("全不选", "Deselect all"),
    "dropdown.selected_count": ("已选 {num_selected} 项", "{num_selected} selected"),
    "dropdown.search": ("搜索", "Search"),
    "dropdown.clear_search": ("清除搜索", "Clear search"),
    "dropdown.clear_selection": ("清除选择", "Clear selection"),
    "dropdown.no_options_found": ("没有匹配的选项", "No options found"),
})
