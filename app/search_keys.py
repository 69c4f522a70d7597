"""Search keys for a person's name: pinyin initials and full pinyin, so `zxm` finds 张晓梅."""

from pypinyin import Style, lazy_pinyin


def name_search_keys(name: str) -> str:
    """Lower-case keys for a name: the name, full pinyin and initials, space separated."""
    name = name.strip()
    full = "".join(lazy_pinyin(name, errors="ignore")).lower()
    initials = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).lower()
    return " ".join(dict.fromkeys(key for key in (name.lower(), full, initials) if key))
