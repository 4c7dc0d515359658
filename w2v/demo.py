"""The embedded default: a generated corpus with planted structure.

No download is needed to see w2v work: :func:`generate_corpus` writes text in
which every "person" word is the sum of two hidden factors, a *role* (royal,
common, young, parent, ...) and a *gender*, and every capital city shares a
country's *place* factor plus a "city" factor. Each factor shows up as its own
set of context words, so a model that learns the co-occurrences recovers the
factors and, with them, analogies whose answer is known in advance::

    king - man + woman   = queen      (royal + male - common - male + common + female)
    paris - france + italy = rome     (capital-ness carried over to another country)

:func:`planted_analogies` lists them; :func:`run_demo` trains on the corpus
and reports how many it gets right.
"""
from __future__ import annotations

import os
import random
from typing import List, Optional, Tuple

from .errors import OutputError
from .outputs import check_outputs

ROLES = {
    # role: (male word, female word, role context words)
    "royal": ("king", "queen", ["throne", "crown", "reign", "palace", "kingdom", "royal"]),
    "common": ("man", "woman", ["street", "work", "ordinary", "people", "town", "job"]),
    "young": ("boy", "girl", ["school", "play", "toy", "young", "games", "lesson"]),
    "parent": ("father", "mother", ["parent", "raised", "children", "family", "home", "care"]),
    "child": ("son", "daughter", ["born", "heir", "eldest", "youngest", "baby", "birth"]),
    "sibling": ("brother", "sister", ["sibling", "twin", "older", "younger", "shared", "together"]),
    "spouse": ("husband", "wife", ["married", "wedding", "marriage", "spouse", "divorce", "bride"]),
    "noble": ("prince", "princess", ["castle", "duke", "court", "noble", "heir", "title"]),
    "relative": ("uncle", "aunt", ["nephew", "niece", "cousin", "relative", "visit", "holiday"]),
}
GENDER = {
    "male": ["he", "his", "him", "himself", "mr", "sir"],
    "female": ["she", "her", "hers", "herself", "mrs", "madam"],
}
COUNTRIES = [
    ("france", "paris", ["french", "seine", "gaul"]),
    ("italy", "rome", ["italian", "tiber", "latin"]),
    ("germany", "berlin", ["german", "rhine", "bavaria"]),
    ("spain", "madrid", ["spanish", "iberia", "castile"]),
    ("japan", "tokyo", ["japanese", "honshu", "samurai"]),
    ("egypt", "cairo", ["egyptian", "nile", "pharaoh"]),
    ("russia", "moscow", ["russian", "volga", "tsar"]),
    ("greece", "athens", ["greek", "aegean", "hellenic"]),
    ("canada", "ottawa", ["canadian", "quebec", "maple"]),
    ("china", "beijing", ["chinese", "yangtze", "dynasty"]),
]
COUNTRY_CONTEXT = ["country", "nation", "border", "population", "economy", "territory"]
CAPITAL_CONTEXT = ["city", "capital", "downtown", "mayor", "streets", "district"]
FILLER = ["the", "a", "of", "and", "in", "to", "was", "is", "with", "for", "on", "as", "by",
          "at", "from", "that", "it", "which", "also", "an", "this", "were", "be", "had"]


def planted_analogies() -> List[Tuple[str, str, str, str]]:
    """(a, b, c, expected): ``b - a + c = expected``, e.g. ('man', 'king', 'woman', 'queen')."""
    out = [("man", "king", "woman", "queen"), ("france", "paris", "italy", "rome")]
    roles = list(ROLES.values())
    for (m1, f1, _), (m2, f2, _) in zip(roles, roles[1:] + roles[:1]):
        out.append((m1, m2, f1, f2))        # man : king :: woman : queen
        out.append((m2, f2, m1, f1))        # king : queen :: man : woman
    for (c1, k1, _), (c2, k2, _) in zip(COUNTRIES, COUNTRIES[1:] + COUNTRIES[:1]):
        out.append((c1, k1, c2, k2))        # france : paris :: italy : rome
    return list(dict.fromkeys(out))         # headline questions first, no repeats


def _sentence(rng: random.Random) -> List[str]:
    words: List[str] = []
    if rng.random() < 0.65:
        male, female, role_ctx = ROLES[rng.choice(list(ROLES))]
        gender = rng.choice(["male", "female"])
        entity = male if gender == "male" else female
        words = [entity, entity] + rng.sample(GENDER[gender], 3) + rng.sample(role_ctx, 3)
    else:
        country, capital, place_ctx = rng.choice(COUNTRIES)
        if rng.random() < 0.5:
            words = [country, country] + rng.sample(COUNTRY_CONTEXT, 3)
        else:
            words = [capital, capital] + rng.sample(CAPITAL_CONTEXT, 3)
        words += rng.sample(place_ctx, 2)
    words += [rng.choice(FILLER) for _ in range(rng.randint(2, 5))]
    rng.shuffle(words)
    return words


def generate_sentences(n_sentences: int = 40000, seed: int = 0) -> List[List[str]]:
    """The planted corpus as token lists (about 12 tokens a sentence)."""
    rng = random.Random(seed)
    return [_sentence(rng) for _ in range(n_sentences)]


def generate_corpus(path, n_sentences: int = 40000, seed: int = 0) -> str:
    """Write the planted corpus to ``path`` (one sentence per line); returns the path."""
    from .outputs import atomic_write
    with atomic_write(path, "w") as f:
        for sentence in generate_sentences(n_sentences, seed):
            f.write(" ".join(sentence))
            f.write("\n")
    return os.fspath(path)


def score_analogies(vectors, analogies=None, topn: int = 1):
    """How many planted analogies the vectors get right: (hits, total, rows)."""
    analogies = analogies or planted_analogies()
    rows = []
    for a, b, c, expected in analogies:
        best = vectors.most_similar(positive=[b, c], negative=[a], topn=topn)
        got = [w for w, _ in best]
        rows.append((a, b, c, expected, got[0], expected in got))
    return sum(r[-1] for r in rows), len(rows), rows


def run_demo(out_dir: Optional[str] = None, threads: int = 2, seed: int = 1, echo=print) -> dict:
    """Generate the planted corpus, train skip-gram on it, show the analogies."""
    import tempfile

    from .trainer import train
    out_dir = out_dir or tempfile.mkdtemp(prefix="w2v-demo-")
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise OutputError(f"--out-dir: {out_dir} is a file, not a folder")
    os.makedirs(out_dir, exist_ok=True)
    paths = {"corpus": os.path.join(out_dir, "planted.txt"),
             "vectors": os.path.join(out_dir, "vectors.bin")}
    taken = [os.path.basename(p) for p in paths.values() if os.path.lexists(p)]
    if taken:        # the demo writes only new files: a folder of the user's keeps its files
        raise OutputError(f"--out-dir: {out_dir} already holds {' and '.join(taken)}; "
                          f"give a new or empty folder")
    check_outputs({"--out-dir": paths["corpus"]})
    corpus = generate_corpus(paths["corpus"], seed=0)
    echo(f"corpus: {corpus} (generated, planted analogies)")
    model = train(corpus, sg=True, size=50, window=5, negative=5, min_count=5, sample=0,
                  epochs=5, threads=threads, seed=seed, progress=False)
    vectors_path = paths["vectors"]
    model.save(vectors_path)
    stats = model.history[-1]
    echo(f"trained {model.config.mode} on {model.history[0]['raw_tokens']:,} tokens, "
         f"{len(model)} words, {stats['words_per_sec'] / 1e6:.2f} M words/s, "
         f"loss per epoch {', '.join(f'{x:.3f}' for x in model.epoch_losses)}")
    echo(f"vectors: {vectors_path}")
    hits, total, rows = score_analogies(model.wv)
    for a, b, c, expected, got, ok in rows[:6]:
        question = f"{b} - {a} + {c}"
        echo(f"  {question:24s} = {got:10s} {'ok' if ok else '(expected ' + expected + ')'}")
    echo(f"planted analogies recovered: {hits}/{total}")
    return {"hits": hits, "total": total, "vectors": vectors_path, "corpus": corpus}
