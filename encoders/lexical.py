"""The document the lexical (BM25) candidate channel indexes and queries for one listing.

Three kinds of evidence share one BM25 search, so a batch costs one call whatever they find:
- the listing's words, so differently embedded titles that share rare words meet;
- its normalised identifiers (model numbers, GTINs), so "UE-55TU7100 KXXU" meets "UE55TU7100KXXU";
- its photo's perceptual hash as one token, so a listing reusing another's photo meets it: a
  hash is rarer than any word, so BM25 ranks exact photo reuse first.
Identifiers and the hash come first: the stored text is clipped to the field's byte limit.
"""

from __future__ import annotations

from collections.abc import Sequence

PHOTO_TOKEN_PREFIX = "photo"


def photo_token(image_phash: str | None) -> str | None:
    """One word for the photo hash ("photo94974f937d4c2433"), None without one."""
    if not image_phash:
        return None
    return f"{PHOTO_TOKEN_PREFIX}{image_phash.lower()}"


def lexical_document(text: str, codes: Sequence[str] = (), image_phash: str | None = None) -> str:
    """Hash token, identifiers, then the words of ``text``, space-separated."""
    photo = photo_token(image_phash)
    return " ".join([*([photo] if photo else []), *codes, text])
