"""Search keys for a person's name: pinyin initials and full pinyin, so `zxm` finds 张晓梅.

pypinyin is imported where a name is keyed, not with this module: loading its phrase
dictionary takes over half a second, which every process would pay at start (each
`flask reminders send` of the reminder timer, each server worker) though most never key
a name.
"""


def _readings(char: str) -> list[str]:
    """Every reading of a character; surnames such as 曾 (zeng) and 单 (shan) need them all."""
    from pypinyin import Style, pinyin

    found = pinyin(char, style=Style.NORMAL, heteronym=True, errors="ignore")
    return [reading.lower() for reading in found[0]] if found else []


def name_search_keys(name: str) -> str:
    """Lower-case keys for a name, space separated.

    The name itself, then full pinyin and initials for each reading of the first
    character (the surname), with ü also typed as u (吕: lv and lu).
    """
    from pypinyin import Style, lazy_pinyin

    name = name.strip()
    if not name:
        return ""
    rest_full = "".join(lazy_pinyin(name[1:], errors="ignore")).lower()
    rest_initials = "".join(
        lazy_pinyin(name[1:], style=Style.FIRST_LETTER, errors="ignore")
    ).lower()
    keys = [name.lower(), normalise_query(name)]
    for reading in _readings(name[0]):
        full = reading + rest_full
        keys += [full, reading[0] + rest_initials]
        if "v" in full:
            keys.append(full.replace("v", "u"))
    return " ".join(dict.fromkeys(key for key in keys if key))[:400]


def normalise_query(text: str) -> str:
    """What a search box sends, in the form the keys are stored: lower case, no spaces."""
    return "".join(text.split()).lower()
