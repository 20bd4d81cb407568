#!/usr/bin/env python3
"""VADER's French port on the sentiment rows `vigie eval --export-sentiment FILE` writes.

`vaderSentiment-fr` (PyPI, MIT licence) has no Rust crate, so it runs here, outside `vigie eval`,
on exactly the rows `vigie eval` scores (its development-test rows), with the same metrics:
macro-F1 and macro-recall over the gold classes; tweets labelled by VADER's usual compound
cuts (>= 0.05 positive, <= -0.05 negative, else neutral), reviews by the compound's sign, as
`vigie eval` labels the English VADER crate's output.

    pip install vaderSentiment-fr==1.3.4
    ./target/release/vigie eval --export-sentiment /tmp/rows.tsv
    python3 deploy/eval/vader_fr.py /tmp/rows.tsv
"""
import sys
import warnings
from collections import Counter, OrderedDict

warnings.filterwarnings("ignore")  # fuzzywuzzy's note about python-Levenshtein
from vaderSentiment_fr.vaderSentiment import SentimentIntensityAnalyzer  # noqa: E402


def label(compound: float, kind: str) -> str:
    if kind == "review":
        return "positive" if compound >= 0.0 else "negative"
    if compound >= 0.05:
        return "positive"
    if compound <= -0.05:
        return "negative"
    return "neutral"


def scores(pairs):
    gold, pred, tp = Counter(), Counter(), Counter()
    for g, p in pairs:
        gold[g] += 1
        pred[p] += 1
        if g == p:
            tp[g] += 1
    f1 = [2 * tp[c] / (gold[c] + pred[c]) if tp[c] else 0.0 for c in gold]
    recall = [tp[c] / gold[c] for c in gold]
    return sum(f1) / len(f1), sum(recall) / len(recall)


def main() -> None:
    analyzer = SentimentIntensityAnalyzer()
    sets = OrderedDict()
    with open(sys.argv[1], encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        assert header == ["set", "kind", "lang", "label", "text"], header
        for line in f:
            name, kind, lang, gold, text = line.rstrip("\n").split("\t", 4)
            if lang != "fr":
                continue
            compound = analyzer.polarity_scores(text)["compound"]
            sets.setdefault(name, []).append((gold, label(compound, kind)))
    print("| data set | n | vaderSentiment-fr macro-F1 | macro-recall |")
    print("|---|---|---|---|")
    for name, pairs in sets.items():
        f1, recall = scores(pairs)
        print(f"| {name} | {len(pairs)} | {f1:.3f} | {recall:.3f} |")


if __name__ == "__main__":
    main()
