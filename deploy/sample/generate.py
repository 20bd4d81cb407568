#!/usr/bin/env python3
"""Generates deploy/sample/mentions.jsonl: the bundled sample replayed by `vigie standalone`.

Two fictional tenants over five days (2026-11-16 to 2026-11-20, UTC). The first four are
ordinary days, so the volume-spike baselines have history to learn from; the story is on the last:
- `verdier` (Maison Verdier, a French sandwich chain): ordinary French chatter all day, then a
  food-poisoning story that starts in private WhatsApp/Messenger messages around 17:40, spills
  onto X, Facebook and TikTok, and reaches the press by 18:30 — the burst the sample watches catch.
- `northwind` (Northwind Air, an airline): English chatter, with a small cluster of lost-luggage
  complaints in the afternoon.
A few deliberately invalid lines show validation and the dead-letter topic.

Deterministic: `python3 deploy/sample/generate.py > deploy/sample/mentions.jsonl`.
"""
import json
import random
from datetime import datetime, timedelta, timezone

rng = random.Random(20261120)
DAY = datetime(2026, 11, 20, 7, 0, tzinfo=timezone.utc)
seq = 0


def ts(minutes):
    return (DAY + timedelta(minutes=minutes, seconds=rng.randint(0, 59))).strftime("%Y-%m-%dT%H:%M:%SZ")


def author(pool):
    handle, name, followers, verified = rng.choice(pool)
    return {"id": "u-" + handle, "handle": handle, "display_name": name, "followers": followers, "verified": verified}


def mention(tenant, source, text, minute, pool, **extra):
    global seq
    seq += 1
    m = {
        "tenant": tenant,
        "source": source,
        "native_id": f"{source}-{seq:05d}",
        "text": text,
        "created_at": ts(minute),
        "author": author(pool),
        "engagement": {"likes": rng.randint(0, 40), "shares": rng.randint(0, 8), "comments": rng.randint(0, 12)},
    }
    m.update(extra)
    return m


FR_PEOPLE = [
    ("camille_lrt", "Camille L.", 312, False), ("jbdurand", "Jean-Baptiste Durand", 1450, False),
    ("sophie.mrtn", "Sophie Martin", 89, False), ("lucas_75", "Lucas", 2300, False),
    ("manon_bzh", "Manon", 640, False), ("theo.rv", "Théo R.", 150, False), ("ines_k", "Inès K.", 4100, False),
    ("hugo_lyon", "Hugo", 980, False), ("chloe.gd", "Chloé G.", 57, False), ("nathan.p", "Nathan P.", 23, False),
]
FR_PRESS = [("leparisien_conso", "Le Parisien Conso", 410000, True), ("actu_lyon", "Actu Lyon", 125000, True),
            ("franceinfo_eco", "franceinfo éco", 890000, True)]
EN_PEOPLE = [
    ("jess_travels", "Jess", 5400, False), ("mark_b", "Mark B.", 310, False), ("priya.k", "Priya K", 1200, False),
    ("tom_onthego", "Tom", 88, False), ("sarah_h", "Sarah H.", 760, False), ("dan_flies", "Dan", 15000, True),
    ("lee_w", "Lee W.", 45, False), ("anna.r", "Anna R.", 2900, False),
]

VERDIER_DAILY = [
    "Pause déj chez Verdier, le sandwich poulet-curry est top 👌",
    "Quelqu'un sait si le Verdier de la gare ouvre le dimanche ?",
    "Le nouveau wrap végé de chez Verdier est vraiment bon, je recommande",
    "File d'attente interminable chez Verdier ce midi, 25 minutes pour un panini…",
    "Merci @maisonverdier pour le café offert ce matin ☕",
    "Verdier a encore augmenté ses prix, 9,50€ la formule c'est abusé",
    "Team Verdier ou team boulangerie du coin ? #pausedej",
    "Le cookie Verdier tout chaud, rien de mieux un vendredi",
    "Commande Verdier livrée froide, décevant",
    "Super accueil au Verdier de Bellecour, équipe au top",
    "Toujours pas de sans gluten chez Verdier ? Dommage",
    "J'adore les soupes d'hiver de Maison Verdier #verdier",
    "Verdier recrute à Nantes, quelqu'un a des infos sur l'ambiance ?",
    "Service rapide chez Verdier ce matin, merci",
    "La salade César de Verdier n'a plus de poulet… sérieusement ?",
]
VERDIER_CRISIS_PRIVATE = [
    "Tu as mangé chez Verdier hier ? Toute la famille est malade depuis cette nuit",
    "On est quatre au bureau à être malades après le déjeuner Verdier, tu connais quelqu'un d'autre ?",
    "Ma sœur est aux urgences, intoxication alimentaire, elle avait pris un wrap Verdier",
    "Transférez : plusieurs personnes malades après avoir mangé chez Verdier rue de la République, évitez !!",
    "Bonjour, mon fils a vomi toute la nuit après votre sandwich poulet, je veux un remboursement et des explications",
]
VERDIER_CRISIS_PUBLIC = [
    "Intoxication alimentaire après un wrap @maisonverdier, 3 jours de fièvre. Je vais porter plainte. #verdier",
    "Nous étions 6 collègues malades après le déjeuner Verdier. Honte à vous #boycottverdier",
    "Encore un cas : ma copine malade après Verdier. Ça commence à faire beaucoup",
    "Verdier doit rappeler ses sandwichs poulet, plusieurs intoxications signalées à Lyon",
    "@maisonverdier vous comptez réagir ? Des gens sont à l'hôpital après avoir mangé chez vous",
    "Je ne remettrai plus jamais les pieds chez Verdier, intoxiqué depuis mardi 🤢",
    "Salmonelle chez Verdier ? Plusieurs malades dans mon entourage #verdier",
    "Boycott Verdier tant qu'ils n'expliquent pas ces intoxications #boycottverdier",
    "Verdier : mon père hospitalisé, intoxication alimentaire confirmée par le médecin",
    "C'est grave ce qui se passe avec Verdier, déjà 20 témoignages d'intoxication sur le groupe du quartier",
]
VERDIER_PRESS = [
    ("Intoxications alimentaires : plusieurs clients de Maison Verdier hospitalisés à Lyon",
     "Au moins douze personnes ont été prises en charge après avoir consommé des sandwichs au poulet de l'enseigne Verdier."),
    ("Maison Verdier : l'enseigne visée par des plaintes après des cas d'intoxication",
     "Des clients malades dénoncent le silence de la chaîne. Verdier n'a pas encore réagi."),
]
NORTHWIND_DAILY = [
    "Smooth flight with Northwind Air this morning, crew was lovely",
    "Northwind lounge coffee is surprisingly good ☕",
    "Delayed 40 minutes on Northwind again. Not great, not terrible",
    "Just booked Lisbon with @northwindair, great fares this winter",
    "Why does the Northwind app log me out every single time?",
    "Northwind Air cabin crew handled a medical emergency like pros. Respect",
    "Legroom on the Northwind A320 is so tight, never again in row 30",
    "Thanks @northwindair for the upgrade, made my week!",
    "Northwind customer service took 2 hours to answer the phone",
    "Window seat, sunset, Northwind flight home. Perfect end to the trip",
]
NORTHWIND_LUGGAGE = [
    "Landed in Dublin, Northwind lost my luggage. Third time this year",
    "@northwindair where is my baggage? Tracking says Paris, I am in Berlin",
    "Northwind Air: two days and still no luggage, no answer from support",
    "Anyone else waiting for lost baggage from Northwind flight NW212?",
    "Northwind left half the plane's luggage in Amsterdam, chaos at the belt",
    "Still no bag. Northwind, this is a joke. #northwindair",
    "My luggage arrived damaged and Northwind refuses any refund",
]

out = []
# Ordinary chatter, 07:00-21:00.
for _ in range(150):
    minute = rng.randint(0, 14 * 60)
    src = rng.choice(["x", "facebook", "instagram", "tiktok", "forum", "review", "x"])
    extra = {"rating": rng.choice([2, 3, 4, 5])} if src == "review" else {}
    out.append(mention("verdier", src, rng.choice(VERDIER_DAILY), minute, FR_PEOPLE, country="FR", **extra))
for _ in range(90):
    minute = rng.randint(0, 14 * 60)
    src = rng.choice(["x", "facebook", "linkedin", "reddit", "review", "x", "instagram"])
    out.append(mention("northwind", src, rng.choice(NORTHWIND_DAILY), minute, EN_PEOPLE, country="GB"))
# Lost-luggage cluster, 14:00-14:50.
for i in range(9):
    out.append(mention("northwind", rng.choice(["x", "facebook", "x"]), NORTHWIND_LUGGAGE[i % len(NORTHWIND_LUGGAGE)],
                       7 * 60 + i * 6, EN_PEOPLE, country="GB"))
# The Verdier food-poisoning story: private first (17:40), public (17:55-18:35), press (18:30).
start = 10 * 60 + 40
for i in range(8):
    src = rng.choice(["whatsapp", "messenger", "whatsapp", "telegram"])
    out.append(mention("verdier", src, VERDIER_CRISIS_PRIVATE[i % len(VERDIER_CRISIS_PRIVATE)], start + i * 2,
                       FR_PEOPLE, country="FR"))
for i in range(30):
    src = rng.choice(["x", "facebook", "tiktok", "instagram", "x", "forum"])
    out.append(mention("verdier", src, VERDIER_CRISIS_PUBLIC[i % len(VERDIER_CRISIS_PUBLIC)], start + 15 + i,
                       FR_PEOPLE, country="FR"))
for i, (title, text) in enumerate(VERDIER_PRESS):
    out.append(mention("verdier", "news", text, start + 50 + i * 5, FR_PRESS, country="FR", title=title,
                       url=f"https://presse.example/verdier-{i + 1}"))
# Four ordinary days before, from their own random stream so the last day stays as it was.
hist = random.Random(20261116)
for day in range(4, 0, -1):
    for tenant, n, texts, pool, sources, country in [
        ("verdier", 150, VERDIER_DAILY, FR_PEOPLE, ["x", "facebook", "instagram", "tiktok", "forum", "review", "x"], "FR"),
        ("northwind", 90, NORTHWIND_DAILY, EN_PEOPLE, ["x", "facebook", "linkedin", "reddit", "review", "x", "instagram"], "GB"),
    ]:
        for k in range(n):
            minute = hist.randint(0, 14 * 60) - day * 24 * 60
            src = hist.choice(sources)
            handle, name, followers, verified = hist.choice(pool)
            m = {
                "tenant": tenant,
                "source": src,
                "native_id": f"{src}-d{day}-{k:04d}",
                "text": hist.choice(texts),
                "created_at": (DAY + timedelta(minutes=minute, seconds=hist.randint(0, 59))).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "author": {"id": "u-" + handle, "handle": handle, "display_name": name, "followers": followers,
                           "verified": verified},
                "engagement": {"likes": hist.randint(0, 40), "shares": hist.randint(0, 8), "comments": hist.randint(0, 12)},
                "country": country,
            }
            if src == "review" and tenant == "verdier":
                m["rating"] = hist.choice([2, 3, 4, 5])
            out.append(m)
out.sort(key=lambda m: m["created_at"])
# Invalid input, kept on the dead-letter topic: unknown source, no text, bad date.
out.insert(len(out) - 250, {"tenant": "verdier", "source": "myspace", "native_id": "bad-1", "text": "Verdier c'est bien"})
out.insert(len(out) - 170, {"tenant": "northwind", "source": "x", "native_id": "bad-2", "text": ""})
out.insert(len(out) - 90, {"tenant": "verdier", "source": "x", "native_id": "bad-3", "text": "Verdier", "created_at": "hier soir"})
for m in out:
    print(json.dumps(m, ensure_ascii=False))
