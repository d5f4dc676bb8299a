"""Which objects a question's words name: every thing's referring phrase (one object: "the white chair", "the cup
on the table"), then names, plurals and synonyms (every object of that kind: "the chair", "the couch" for a sofa).
Longer forms claim their words first, so "the chair on the left" is the phrase, not the name "chair".

The gate uses it both ways: to check that a writer who gave ids named those objects, uniquely, and to find the
objects of a question whose writer gave none.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from weakref import WeakKeyDictionary

from ...focus import _spans
from ...lexicon import objecthood
from ...names import lemma_phrase
from ...geometry import iou
from ...scene_view import DUPLICATE_IOU, SceneView


@dataclass(frozen=True)
class Mention:
    start: int  # word position in the text
    text: str  # the form the words matched: the object's phrase, or a name of its kind
    ids: frozenset[str]  # the objects these words may mean (for a phrase, one object, perhaps boxed twice)
    phrase: bool  # a referring phrase (names one object), not a name of a kind


@lru_cache(maxsize=1 << 14)
def _forms_of(name: str) -> tuple[str, ...]:
    """The words a question may use for a thing of this name: the name and its synonyms (the lexicon's group)."""
    canonical = objecthood.canonical(name)
    return tuple(dict.fromkeys((name, canonical, *objecthood.load().group.get(canonical, ()))))


def mentions(text: str, view: SceneView) -> list[Mention]:
    """The mentions of objects of the scene in `text`, in the order they appear."""
    words = lemma_phrase(text)
    present = set(words)
    names = list(dict.fromkeys((lemmas, form, _kin_ids(view, name), False) for lemmas, form, name in _name_forms(view)
                               if present.issuperset(lemmas)))
    # A phrase holds its object's name ("the white chair", "the chair on the left"): only those names' phrases.
    named = {oid for _, _, ids, _ in names for oid in ids}
    by_phrase: dict[str, set[str]] = {}
    for oid in sorted(named):
        phrase = view.phrase.get(oid)
        if phrase and phrase != view.by_id[oid]["name"]:
            by_phrase.setdefault(phrase, set()).add(oid)  # one thing boxed twice has its phrase twice
    forms = [(lemma_phrase(phrase), phrase, frozenset(ids), True) for phrase, ids in by_phrase.items()]
    forms = [f for f in forms if present.issuperset(f[0])] + names
    forms.sort(key=lambda f: (-len(f[0]), not f[3], f[1]))
    claimed: set[int] = set()
    found = []
    for lemmas, form, ids, is_phrase in forms:
        for span in _spans(words, lemmas):
            if not claimed.intersection(span):
                claimed.update(span)
                found.append(Mention(span.start, form, ids, is_phrase))
    return sorted(found, key=lambda m: m.start)


_NAME_FORMS: WeakKeyDictionary = WeakKeyDictionary()


def _name_forms(view: SceneView) -> list[tuple[tuple[str, ...], str, str]]:
    """(lemmas, form, the object name it is a form of) for every name, plural and synonym of the scene's objects.
    Once per scene, for all its questions."""
    if view not in _NAME_FORMS:
        forms = [(lemma_phrase(form), form, name) for name in view.kin for form in _forms_of(name)]
        _NAME_FORMS[view] = [f for f in dict.fromkeys(forms) if f[0]]
    return _NAME_FORMS[view]


def _kin_ids(view: SceneView, name: str) -> frozenset[str]:
    """The objects a form of `name` may mean: those whose names overlap it (`SceneView.rivals`'s kin)."""
    return frozenset(k["id"] for k in view.kin[name])


def one_object(mention: Mention, view: SceneView) -> str | None:
    """The one object a mention names, or None when it may mean several: the first whose every other candidate is
    the same object boxed again (the test of `SceneView.rivals`, so a question names what the templates name)."""
    return next((oid for oid in sorted(mention.ids) if _only(oid, mention, view)), None)


def naming(oid: str, found: list[Mention], view: SceneView) -> tuple[Mention | None, str | None]:
    """(the mention that names `oid`, or None; why not: `object_not_named_in_question` or `object_ambiguous_in_question`)."""
    candidates = [m for m in found if oid in m.ids]
    if not candidates:
        return None, "object_not_named_in_question"
    unique = [m for m in candidates if _only(oid, m, view)]
    if not unique:
        return None, "object_ambiguous_in_question"  # "the chair" with two chairs in the picture
    return unique[0], None


def _only(oid: str, mention: Mention, view: SceneView) -> bool:
    """Every other object the mention may mean is `oid` boxed again."""
    box = view.by_id[oid]["bbox"]
    return all(iou(box, view.by_id[other]["bbox"]) >= DUPLICATE_IOU for other in mention.ids if other != oid)
