"""Name vocabularies built in code, and name corruption (typos and sound-alike spellings).

Names are held as integer codes into a :class:`Vocabulary`; corrupted spellings are appended to the
vocabulary, so tens of millions of rows never hold Python strings. Nothing is downloaded: forenames
and the most common surnames are hand-written lists of common English and Welsh names, and the long
tail of surnames is built from syllables, with Zipf-like frequencies.
"""

from __future__ import annotations

import numpy as np

from recurrence.pseudonymise import normalise_name, soundex


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FEMALE_FORENAMES = _words(
    """
Sarah Emma Laura Rebecca Gemma Claire Victoria Louise Amy Hannah Samantha Nicola Kirsty Jessica
Charlotte Lisa Kelly Rachel Natalie Michelle Stacey Leanne Danielle Jade Chloe Sophie Emily
Lauren Amber Megan Holly Bethany Shannon Courtney Paige Chelsea Jodie Katie Kayleigh Zoe Joanne
Donna Tracey Karen Julie Helen Angela Dawn Carly Toni Kerry Hayley Stephanie Jennifer Elizabeth
Katherine Catherine Caroline Ellie Georgia Olivia Lucy Abigail Jasmine Leah Kimberley Rhiannon
Sian Ffion Cerys Bethan Catrin Nia Seren Carys Lowri Megan Aimee Tanya Sharon Lindsay Becky
Naomi Alice Anna Grace Molly Ruby Millie Keeley Shauna Demi Tia Kia Lacey Leigh Nadia Aisha
Fatima Amina Sadia Ayesha Shabana Nasreen Precious Joy Blessing Grace Maria Agnieszka Anna
Monika Ewa Natalia Ioana Elena Andreea Roxana Mary Margaret Susan Linda Patricia Deborah
Jacqueline Kathleen Teresa Marie Ann Jane Joanna Kate Ella Eve Jordan Terri Kerrie Charley Mia
Evie Poppy Freya Isla Lily Summer Skye Tegan Cara Maddison Madison Brooke Jorja Kelsey Casey
Jenna Nikki Gina Vicky Marie Lorna Fiona Shona Kirstie Elaine Lynsey Lyndsey Sheryl Cheryl
Sheila Wendy Janet Lorraine Gillian
"""
)
MALE_FORENAMES = _words(
    """
David John Michael Paul Andrew Mark James Richard Robert Christopher Daniel Matthew Stephen
Peter Thomas Lee Gary Craig Darren Jason Wayne Dean Carl Anthony Martin Simon Kevin Ian Jamie
Ryan Adam Ashley Liam Luke Jack Joshua Callum Kyle Connor Jordan Aaron Shaun Scott Nathan
Bradley Kieran Jake Lewis Sam Ben Tom Joe Harry Charlie George Oliver Alfie Oscar Rhys Dafydd
Gareth Owain Huw Iwan Aled Dylan Emyr Steffan Mohammed Muhammad Ahmed Ali Hassan Imran Tariq
Bilal Omar Kwame Emmanuel Samuel Tomasz Piotr Marcin Andrei Ionut Mihai Alexander William Henry
Leo Archie Freddie Noah Ethan Mason Logan Riley Tyler Kai Reece Brandon Jay Jon Stuart Neil
Keith Barry Terry Tony Colin Graham Phillip Philip Steven
"""
)
COMMON_SURNAMES = _words(
    """
Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson
Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner
Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James Scott
Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson
Bailey Collins Bell Shaw Murphy Miller Cox Richards Khan Marshall Anderson Simpson Ellis Adams
Singh Begum Wilkinson Foster Chapman Powell Webb Rogers Gray Mason Ali Hunt Hussain Campbell
Matthews Owen Palmer Holmes Mills Barnes Knight Lloyd Butler Russell Barker Fisher Stevens
Jenkins Murray Dixon Harvey Graham Pearson Ahmed Fletcher Walsh Kaur Gibson Howard Andrews
Stewart Elliott Reynolds Saunders Payne Fox Ford Pearce Day Brooks West Lawrence Cole Atkinson
Bradley Spencer Gill Dawson Ball Burton OBrien Watts Rose Booth Perry Ryan Grant Wells Armstrong
Francis Rees Hayes Hart Hudson Newman Barrett Webster Hunter Gregory Carr Lowe Page Marsh Riley
Dunn Woods Parsons Berry Stone Reid Holland Hawkins Harding Porter Robertson Newton Oliver Reed
Kennedy Williamson Bird Gardner Shah Dean Lane Cooke Bates Henderson Parry Burgess Bishop Walton
Burns Nicholson Shepherd Ross Cross Long Freeman Warren Nicholls Hamilton Byrne Sutton McDonald
Yates Hodgson Robson Curtis Hopkins OConnor Harper Coleman Watkins Moss McCarthy Chambers ONeill
Griffin Sharp Hardy Wheeler Potter Osborne Johnston Gordon Doyle Wallace George Jordan
Hutchinson Rowe Burke May Pritchard Gilbert Willis Higgins Read Miles Stevenson Stephenson
Hammond Arnold Buckley Walters Hewitt Barber Nelson Slater Austin Sullivan Whitehead Mann Frost
Lambert Stephens Blake Akhtar Lynch Goodwin Barton Woodward Thomson Cunningham Quinn Barnett
Baxter Bibi Clayton Nash Greenwood Jennings Holt Kemp Poole Gallagher Bond Stokes Tucker
Davidson Fowler Heath Norman Middleton Lawson Banks French Stanley Jarvis Gibbs Ferguson Hayward
Llewellyn Pugh Vaughan Howells Jenkin Prosser Bevan Meredith Gwilliam Powys Watkin Howell
Kowalski Nowak Wisniewski Popescu Ionescu Okafor Mensah Osei Adeyemi Nguyen Chen Wong
"""
)
SURNAME_ONSETS = _words(
    """
Ash Bar Black Brad Brook Bur Cal Chad Clif Cole Cram Dar Dun Ed El Farn Fair Gar Glad Grim Hal
Hart Haw Hol Kir Lang Lin Mar Mel Mid Nor Old Pen Rad Ray Red Roth Sal Shel Stan Stock Thorn Tod
Wal Wat Wel Whit Win Wor Yar Alden Ather Bram Carl Dal Fen Hay Hoxt Kel Nether
"""
)
SURNAME_CODAS = _words(
    """
by ton ham ley well worth field ford wood croft dale shaw more bury thorpe wick ridge stead
hurst cliffe combe den don ing low mere over sey stock stone wall well win cott hay land
"""
)
SURNAME_ENDINGS = ("", "", "", "", "s", "e", "son", "er")

# Sound-alike spellings: only pairs whose Soundex codes agree are used (checked when built).
VARIANT_SPELLINGS: dict[str, tuple[str, ...]] = {
    "John": ("Jon",),
    "Jon": ("John",),
    "Claire": ("Clare", "Clair"),
    "Clare": ("Claire",),
    "Smith": ("Smyth", "Smithe"),
    "Smyth": ("Smith",),
    "Stephen": ("Steven",),
    "Steven": ("Stephen",),
    "Philip": ("Phillip",),
    "Phillip": ("Philip",),
    "Leanne": ("Lianne", "Leann"),
    "Stacey": ("Stacy", "Stacie"),
    "Kirsty": ("Kirstie", "Kirstey"),
    "Zoe": ("Zoey",),
    "Natalie": ("Nathalie", "Natalee"),
    "Sian": ("Sion",),
    "Louise": ("Louisa",),
    "Hayley": ("Haley", "Hailey"),
    "Kayleigh": ("Kayley", "Kaylee"),
    "Carly": ("Carley", "Carlie"),
    "Jade": ("Jayde",),
    "Chloe": ("Chloey",),
    "Rebecca": ("Rebekah", "Rebeca"),
    "Sarah": ("Sara",),
    "Hannah": ("Hanna",),
    "Tracey": ("Tracy",),
    "Lindsay": ("Lindsey", "Lyndsay"),
    "Kerry": ("Kerrie", "Keri"),
    "Terri": ("Terry",),
    "Nicola": ("Nichola",),
    "Jodie": ("Jodi", "Jody"),
    "Leah": ("Lea",),
    "Thompson": ("Thomson", "Tompson"),
    "Thomson": ("Thompson",),
    "Clarke": ("Clark",),
    "Clark": ("Clarke",),
    "Davies": ("Davis", "Davys"),
    "Davis": ("Davies",),
    "Griffiths": ("Griffith",),
    "Mohammed": ("Mohammad", "Mohamed"),
    "Muhammad": ("Muhammed",),
    "Stephens": ("Stevens",),
    "Stevens": ("Stephens",),
    "Reid": ("Read", "Reed"),
    "Gray": ("Grey",),
    "Nicholls": ("Nichols",),
    "Hussain": ("Husain", "Hussein"),
    "Begum": ("Begam",),
    "Lloyd": ("Loyd",),
    "Matthews": ("Mathews",),
    "Katie": ("Katy", "Katey"),
    "Amy": ("Aimee",),
    "Aimee": ("Amy",),
}


class Vocabulary:
    """A growing list of distinct name strings addressed by integer code."""

    def __init__(self, names: list[str]) -> None:
        self.names: list[str] = []
        self.index: dict[str, int] = {}
        for name in names:
            self.code(name)

    def code(self, name: str) -> int:
        """Return the code of ``name``, adding it when new.

        Parameters
        ----------
        name
            A name string.

        Returns
        -------
        int
            Its code.
        """
        found = self.index.get(name)
        if found is None:
            found = len(self.names)
            self.names.append(name)
            self.index[name] = found
        return found

    def __len__(self) -> int:
        return len(self.names)


def _zipf_weights(n: int, exponent: float) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1, dtype=float) ** exponent
    return w / w.sum()


def _dedupe(seq: list[str]) -> list[str]:
    return list(dict.fromkeys(seq))


class NameModel:
    """Forename and surname vocabularies with sampling weights and corruption.

    Parameters
    ----------
    rng
        The seeded generator; the vocabulary order (and so the frequencies) depends on it.
    """

    def __init__(self, rng: np.random.Generator) -> None:
        female = _dedupe(FEMALE_FORENAMES)
        male = _dedupe(MALE_FORENAMES)
        common = _dedupe(COMMON_SURNAMES)
        built = _dedupe(
            [o + c + e for o in SURNAME_ONSETS for c in SURNAME_CODAS for e in SURNAME_ENDINGS]
        )
        built = [s for s in built if s not in set(common)]
        built = [built[i] for i in rng.permutation(len(built))]
        self.vocab = Vocabulary(female + male + common + built)
        self.female = np.arange(len(female))
        self.male = np.arange(len(female), len(female) + len(male))
        start = len(female) + len(male)
        self.surnames = np.arange(start, start + len(common) + len(built))
        self.female_w = _zipf_weights(len(female), 0.9)[rng.permutation(len(female))]
        self.male_w = _zipf_weights(len(male), 0.9)[rng.permutation(len(male))]
        self.surname_w = _zipf_weights(len(self.surnames), 1.0)
        self._variants = {
            k: tuple(v for v in vs if soundex(normalise_name(v)) == soundex(normalise_name(k)))
            for k, vs in VARIANT_SPELLINGS.items()
        }

    def sample(self, rng: np.random.Generator, kind: str, n: int) -> np.ndarray:
        """Draw ``n`` name codes of ``kind`` ('female', 'male' or 'surname').

        Parameters
        ----------
        rng
            The seeded generator.
        kind
            Which vocabulary.
        n
            How many.

        Returns
        -------
        numpy.ndarray
            Integer codes into :attr:`vocab`.
        """
        pool, weights = {
            "female": (self.female, self.female_w),
            "male": (self.male, self.male_w),
            "surname": (self.surnames, self.surname_w),
        }[kind]
        return pool[rng.choice(len(pool), size=n, p=weights)].astype(np.int64)

    def corrupt(
        self,
        rng: np.random.Generator,
        codes: np.ndarray,
        typo_rate: float,
        variant_rate: float,
        missing_rate: float,
    ) -> np.ndarray:
        """Return a copy of ``codes`` with typos, sound-alike variants and missing names (-1).

        A variant spelling is used only where the name has one; a typo changes one letter
        (substitution, deletion, doubling or swapping of neighbours).

        Parameters
        ----------
        rng
            The seeded generator.
        codes
            Name codes; -1 means missing.
        typo_rate, variant_rate, missing_rate
            Per-row probabilities.

        Returns
        -------
        numpy.ndarray
            The corrupted codes.
        """
        out = codes.copy()
        n = len(out)
        u = rng.random(n)
        present = out >= 0
        typo = present & (u < typo_rate)
        variant = present & (u >= typo_rate) & (u < typo_rate + variant_rate)
        missing = present & (u >= 1.0 - missing_rate)
        for i in np.flatnonzero(variant):
            options = self._variants.get(self.vocab.names[out[i]])
            if options:
                out[i] = self.vocab.code(options[int(rng.integers(len(options)))])
        idx = np.flatnonzero(typo)
        kinds = rng.integers(0, 4, size=len(idx))
        positions = rng.random(len(idx))
        letters = rng.integers(0, 26, size=len(idx))
        for i, kind, pos, letter in zip(idx, kinds, positions, letters, strict=True):
            out[i] = self.vocab.code(_typo(self.vocab.names[out[i]], int(kind), pos, int(letter)))
        out[missing] = -1
        return out


def _typo(name: str, kind: int, pos: float, letter: int) -> str:
    if len(name) < 3:
        return name + "e"
    i = 1 + int(pos * (len(name) - 2))  # keep the first letter, like most real typos
    ch = chr(ord("a") + letter)
    if kind == 0:  # substitution
        if ch == name[i].lower():
            ch = "z" if ch != "z" else "q"
        return name[:i] + ch + name[i + 1 :]
    if kind == 1:  # deletion
        return name[:i] + name[i + 1 :]
    if kind == 2:  # doubling
        return name[: i + 1] + name[i] + name[i + 1 :]
    if name[i] == name[i + 1 if i + 1 < len(name) else i - 1]:
        return name[:i] + ch + name[i + 1 :]
    j = i + 1 if i + 1 < len(name) else i - 1  # swap neighbours
    a, b = sorted((i, j))
    return name[:a] + name[b] + name[a] + name[b + 1 :]
