#!/usr/bin/env python3
"""Dialoog's text analysis side by side with Python's vaderSentiment and
langid.py, on the same texts, in one run.

    pip install vaderSentiment langid
    cargo build --release -p dialoog
    python3 bench/text_compare.py [--bin target/release/dialoog] [--items 100000]

Texts: sentences from the development sets (crates/text/data/devset),
recombined at random with hashtags, mentions, links and emoji. Dialoog runs as
`dialoog analyze` (one process, one thread, JSON lines out); VADER and langid
run in this Python process (langid restricted to the languages Dialoog knows).
Prints throughput of both, their ratio, and agreement; then binary accuracy
(sign of the score) of both scorers on the English development set.
"""
import argparse, json, os, random, subprocess, sys, tempfile, time

import langid
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXTRAS = ["#klantenservice", "@bakkerijdevries", "https://example.nl/p/123", "😍", "😡", "👍", "#webcare", "@support", "!!", "#fail"]


def devset(lang):
    rows = []
    with open(os.path.join(ROOT, "crates/text/data/devset", f"{lang}.tsv"), encoding="utf-8") as f:
        for line in f:
            if "\t" in line:
                label, text = line.rstrip("\n").split("\t", 1)
                rows.append((label, text))
    return rows


def texts(n, seed=42):
    pool = [t for _, t in devset("nl") + devset("en")]
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        s = rng.choice(pool)
        if rng.randrange(3) == 0:
            s += " " + rng.choice(pool)
        if rng.randrange(2) == 0:
            s += " " + rng.choice(EXTRAS)
        out.append(s)
    return out


def label(score):
    return "positive" if score >= 0.05 else "negative" if score <= -0.05 else "neutral"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/dialoog"))
    ap.add_argument("--items", type=int, default=100_000)
    a = ap.parse_args()
    corpus = texts(a.items)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as f:
        f.write("\n".join(corpus) + "\n")
        path = f.name

    t0 = time.perf_counter()
    with open(path, "rb") as stdin:
        out = subprocess.run([a.bin, "analyze"], stdin=stdin, capture_output=True, check=True).stdout
    dialoog_s = time.perf_counter() - t0
    ours = [json.loads(l) for l in out.decode().splitlines()]
    os.unlink(path)
    assert len(ours) == len(corpus), "one line out per line in"

    langid.set_languages(["nl", "en", "fr", "de", "af", "es", "it"])
    vader = SentimentIntensityAnalyzer()
    t0 = time.perf_counter()
    theirs = [(langid.classify(t)[0], vader.polarity_scores(t)["compound"]) for t in corpus]
    python_s = time.perf_counter() - t0

    known = [(o["lang"], l) for o, (l, _) in zip(ours, theirs) if o["lang"] is not None]
    lang_agree = sum(1 for x, y in known if x == y) / max(1, len(known))
    en = [(o["sentiment"], label(c)) for o, (l, c) in zip(ours, theirs) if o["lang"] == "en" and l == "en"]
    sent_agree = sum(1 for x, y in en if x == y) / max(1, len(en))

    print(json.dumps({"what": "text_compare", "items": a.items,
                      "dialoog_seconds": round(dialoog_s, 3), "dialoog_items_per_second": round(a.items / dialoog_s),
                      "python_seconds": round(python_s, 3), "python_items_per_second": round(a.items / python_s),
                      "throughput_ratio": round(python_s / dialoog_s, 1),
                      "language_agreement_where_dialoog_answers": round(lang_agree, 3),
                      "dialoog_answers_share": round(len(known) / a.items, 3),
                      "sentiment_label_agreement_on_english": round(sent_agree, 3), "english_texts": len(en)}))

    # Binary accuracy (sign of the score) on the English development set.
    rows = [(l, t) for l, t in devset("en") if l != "neutral"]
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as f:
        f.write("\n".join(t for _, t in rows) + "\n")
        path = f.name
    with open(path, "rb") as stdin:
        ours = [json.loads(l)["score"] for l in subprocess.run([a.bin, "analyze"], stdin=stdin, capture_output=True, check=True).stdout.decode().splitlines()]
    os.unlink(path)
    def acc(scores):
        return sum(1 for (l, _), s in zip(rows, scores) if (s > 0 if l == "positive" else s < 0)) / len(rows)
    print(json.dumps({"what": "english_devset_binary_accuracy", "texts": len(rows),
                      "dialoog": round(acc(ours), 3),
                      "vader": round(acc([vader.polarity_scores(t)["compound"] for _, t in rows]), 3)}))


if __name__ == "__main__":
    main()
