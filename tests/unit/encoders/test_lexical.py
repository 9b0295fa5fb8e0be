"""The lexical channel's document: photo-hash token and identifiers ahead of the words."""

from encoders.lexical import lexical_document, photo_token


def test_the_document_puts_the_photo_token_and_identifiers_first() -> None:
    document = lexical_document("Samsung TV UE-55TU7100", ["ue55tu7100"], "94974F937D4C2433")
    assert document == "photo94974f937d4c2433 ue55tu7100 Samsung TV UE-55TU7100"


def test_without_hash_or_identifiers_the_document_is_the_text() -> None:
    assert lexical_document("tas wanita") == "tas wanita"
    assert photo_token(None) is None and photo_token("") is None
