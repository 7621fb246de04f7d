from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diplotag.text import clean_for_model, has_encoding_damage, split_sentences


def texts(t: str) -> list[str]:
    spans = split_sentences(t)
    for s in spans:
        assert t[s.start:s.end] == s.text
    return [s.text for s in spans]


@pytest.mark.parametrize("text,expected", [
    ("M. Wang Yi a rencontré Mme Baerbock. Ils ont parlé.", ["M. Wang Yi a rencontré Mme Baerbock.", "Ils ont parlé."]),
    ("MM. Dupont et Durand sont arrivés. La séance a repris.", ["MM. Dupont et Durand sont arrivés.", "La séance a repris."]),
    ("Auguste est né en 63 av. J.-C. à Rome. Il régna longtemps.", ["Auguste est né en 63 av. J.-C. à Rome.", "Il régna longtemps."]),
    ("V. Poutine et X. Jinping se sont parlé. Rien n'a filtré.", ["V. Poutine et X. Jinping se sont parlé.", "Rien n'a filtré."]),
    ("La croissance a atteint 3,5 % et 1.000 tonnes ont été livrées. Fin du rapport.",
     ["La croissance a atteint 3,5 % et 1.000 tonnes ont été livrées.", "Fin du rapport."]),
    ("« Nous sommes prêts. Nous agirons », a-t-il dit. Puis il est parti.",
     ["« Nous sommes prêts. Nous agirons », a-t-il dit.", "Puis il est parti."]),
    ("Il a conclu : « La paix est possible. » Le public a applaudi.",
     ["Il a conclu : « La paix est possible. »", "Le public a applaudi."]),
    ("Que pensez-vous des sanctions ? Le porte-parole n'a pas répondu.",
     ["Que pensez-vous des sanctions ?", "Le porte-parole n'a pas répondu."]),
    ("Quelle surprise ! Et maintenant… Le ministre hésite.", ["Quelle surprise !", "Et maintenant…", "Le ministre hésite."]),
    ("Voir cf. p. 12 du rapport. Suite.", ["Voir cf. p. 12 du rapport.", "Suite."]),
    ("UKRAINE : NOUVEAUX PILONNAGES À KHARKIV\nLe front s'est embrasé mardi.",
     ["UKRAINE : NOUVEAUX PILONNAGES À KHARKIV", "Le front s'est embrasé mardi."]),
    ("PÉKIN, 3 juin (Xinhua) -- Le président a reçu son homologue.",
     ["PÉKIN, 3 juin (Xinhua) --", "Le président a reçu son homologue."]),
    ("MINSK, 14 mars (BelTA) — La Biélorussie et la Russie renforceront leurs liens.",
     ["MINSK, 14 mars (BelTA) —", "La Biélorussie et la Russie renforceront leurs liens."]),
    ("Ligne un\r\n\r\nLigne deux\n", ["Ligne un", "Ligne deux"]),
    ("   ", []),
])
def test_french_splitting(text, expected):
    assert texts(text) == expected


def test_encoding_damage_does_not_split_inside_words():
    t = "Le c?t? bi?lorusse a salu? l'?uvre accomplie. La s?curit? ? Minsk reste assur?e. Fin."
    assert has_encoding_damage(t)
    assert texts(t) == ["Le c?t? bi?lorusse a salu? l'?uvre accomplie.", "La s?curit? ? Minsk reste assur?e.", "Fin."]
    assert texts("Ale?nik a parl?. Le ministre a confirm? Mardi la visite.") == [
        "Ale?nik a parl?.", "Le ministre a confirm? Mardi la visite."]


def test_nbsp_controls_and_offsets():
    t = "\ufeffLe ministre a parlé\u00a0! Les\x07 échanges\u202fcontinuent. "
    spans = split_sentences(t)
    assert [s.text for s in spans] == ["Le ministre a parlé\u00a0!", "Les\x07 échanges\u202fcontinuent."]
    assert all(t[s.start:s.end] == s.text for s in spans)
    assert clean_for_model(spans[1].text) == "Les échanges continuent."


def test_decomposed_accents_are_composed_for_the_model():
    decomposed = "Le ministre a été reçu."
    assert clean_for_model(decomposed) == "Le ministre a été reçu."


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abcAB .!?«»\n\u00a0?é,-M()0123456789")), max_size=200))
def test_offsets_always_index_the_source(t):
    spans = split_sentences(t)
    last = 0
    for s in spans:
        assert t[s.start:s.end] == s.text
        assert s.start >= last and s.end > s.start
        assert s.text == s.text.strip()
        last = s.end
