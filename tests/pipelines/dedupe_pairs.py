"""The labelled table the dedupe thresholds are calibrated on, built from the two seeds.

Every document belongs to a *story* (its label).  Two documents of one story are copies
and must share a cluster; documents of different stories must not — including the two
seeds themselves (same topic: North Korea, Russia, Lavrov; different stories), a different
write-up of each seed's event, a same-topic story, and a short story written only with
words of seed 0 (``token_set_ratio`` scores it 100 against seed 0).

Within a story every pair is a *direct* copy (each shares most of the shorter text with
the other), so the table holds for pairwise comparison and for clustering in any order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


@dataclass(frozen=True)
class Doc:
    """One labelled document: ``story`` is the ground-truth cluster."""

    name: str
    story: str
    title: str
    body: str


@dataclass(frozen=True)
class Pair:
    """Two documents and whether they are copies of one story."""

    a: Doc
    b: Doc
    duplicate: bool

    @property
    def id(self) -> str:
        return f"{self.a.name}~{self.b.name}"


def _seed(prefix: str) -> str:
    text = next(SEEDS.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")
    return re.sub(r"^\s*date \d{4}-\d{2}-\d{2}\s*", "", text)


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.splitlines() if p.strip()]


def join(paras: list[str]) -> str:
    return "\n\n".join(paras)


_COMMENT_PROMPT = "هل ترغب بالتعليق على الموضوع؟\nلا تتردد في إعطاء تعليقك ومشاركة رأيك"


def without_comment_prompt(text: str) -> str:
    return text.replace(_COMMENT_PROMPT, "").strip()


def with_harakat(text: str) -> str:
    """Add a fatha to every third word and a tatweel inside every fifth word."""
    out = []
    for i, word in enumerate(text.split(" ")):
        if len(word) > 3 and "\u0621" <= word[1] <= "\u064a":
            if i % 3 == 0:
                word = word[0] + "\u064e" + word[1:]
            elif i % 5 == 1:
                word = word[:2] + "\u0640" + word[2:]
        out.append(word)
    return " ".join(out)


def respelled(text: str, spellings: dict[str, str]) -> str:
    for old, new in spellings.items():
        text = text.replace(old, new)
    return text


def indic_digits(text: str) -> str:
    return text.translate({ord(str(d)): chr(0x0660 + d) for d in range(10)})


def read_also(text: str) -> str:
    """The story followed by an «اقرأ أيضا» footer of same-topic headlines and chrome."""
    return (
        text + "\n\nاقرأ أيضا:\n"
        "كوريا الشمالية تؤكد مواصلة تعزيز ترسانتها النووية\n"
        "لافروف يشيد بالعلاقات الوطيدة مع بيونغ يانغ\n"
        "زيلينسكي يندد بعدم تحرك الحلفاء إزاء نشر القوات الكورية الشمالية\n"
        "جميع الحقوق محفوظة"
    )


SEED0 = _seed("000")
SEED1 = _seed("004")
S0 = paragraphs(without_comment_prompt(SEED0))
S1 = paragraphs(SEED1)
_TO_GHAIN = {"بيونج": "بيونغ", "يانج": "يانغ", "جونج": "جونغ", "سيرجي": "سيرغي"}
_TO_JIM = {"بيونغ": "بيونج", "يانغ": "يانج", "جونغ": "جونج", "سيرغي": "سيرجي", "سونغ": "سونج"}

_S0_NEW_LEDE = (
    "سول – (رويترز): قال الزعيم الكوري الشمالي كيم جونج أون لوزير الخارجية الروسي سيرجي "
    "لافروف إن بيونج يانج تقف بلا شروط خلف موسكو في حرب أوكرانيا."
)
_S1_NEW_LEDE = (
    "موسكو (أ ف ب) - تعهدت كوريا الشمالية الجمعة بالوقوف إلى جانب روسيا حتى النصر، "
    "وأكدت وزيرة خارجيتها في موسكو أن بلادها لن تتخلى عن ترسانتها النووية."
)

_DIFFERENT_WRITEUP_0 = join(
    [
        (
            "وونسان (أ ف ب) - تعهد الزعيم الكوري الشمالي كيم جونغ أون خلال استقباله وزير "
            'الخارجية الروسي سيرغي لافروف في منتجع وونسان بدعم موسكو "من دون شروط" في حربها '
            "على أوكرانيا، على ما أفادت وسائل الإعلام الرسمية في بيونغ يانغ الأحد."
        ),
        (
            "وأجرى لافروف الذي يقوم بأول زيارة له إلى الشمال منذ توقيع البلدين معاهدة دفاع "
            "مشترك العام الماضي، محادثات مع نظيرته الكورية الشمالية تشوي سون هوي تناولت "
            "التعاون العسكري والاقتصادي."
        ),
        (
            'ونقلت وكالة الأنباء الرسمية عن كيم قوله إن بلاده "ستقف دائما إلى جانب الشعب '
            'الروسي"، فيما أشاد لافروف بالجنود الكوريين الشماليين الذين قاتلوا إلى جانب '
            "القوات الروسية في منطقة كورسك."
        ),
        (
            "وتتهم سيول وواشنطن بيونغ يانغ بإرسال آلاف الجنود وملايين القذائف إلى روسيا مقابل"
            " الحصول على تكنولوجيا عسكرية متقدمة."
        ),
    ]
)

_DIFFERENT_WRITEUP_1 = join(
    [
        (
            "موسكو (رويترز) - قالت وزيرة خارجية كوريا الشمالية تشوي سون هوي خلال محادثات مع "
            "نظيرها الروسي سيرجي لافروف في موسكو يوم الجمعة إن بيونجيانج ستواصل تطوير قدراتها"
            " النووية، وإنها ستقف إلى جانب روسيا حتى تحقيق النصر في أوكرانيا."
        ),
        (
            "وتأتي زيارة الوزيرة في وقت تقول فيه الولايات المتحدة وكوريا الجنوبية إن آلاف "
            "الجنود الكوريين الشماليين وصلوا إلى روسيا ويستعدون للمشاركة في القتال قرب الحدود"
            " الأوكرانية."
        ),
        (
            "وقال لافروف إن العلاقات بين أجهزة الأمن في البلدين وثيقة للغاية، دون أن يعلق على"
            " التقارير بشأن نشر القوات."
        ),
        (
            "ووقع الرئيس فلاديمير بوتين والزعيم كيم جونج أون في يونيو حزيران معاهدة للدفاع "
            "المشترك تلزم كل طرف بمساعدة الآخر في حال تعرضه لهجوم."
        ),
    ]
)

_SAME_TOPIC = join(
    [
        (
            "سول (يونهاب) - قال جهاز المخابرات الوطني في كوريا الجنوبية اليوم الأربعاء إن "
            "كوريا الشمالية أرسلت دفعة جديدة من الجنود إلى روسيا، ليرتفع عدد القوات الكورية "
            "الشمالية المنتشرة هناك إلى نحو خمسة عشر ألف جندي."
        ),
        (
            "وأضاف الجهاز في إفادة للنواب أن بعض هؤلاء الجنود قتلوا أو أصيبوا في المعارك "
            "الدائرة في منطقة كورسك، وأن بيونغ يانغ تتلقى في المقابل مساعدات في مجالي الطاقة "
            "والتكنولوجيا العسكرية."
        ),
        ("ولم تؤكد موسكو أو بيونغ يانغ رسميا وجود هذه القوات."),
    ]
)

# Every word occurs in seed 0, in another order: a different (short) story.
_WORDS_OF_SEED0 = (
    "أعلنت كوريا الجنوبية أمس أن المتحدة أرسلت قاذفة قنابل من طراز بي-52 إلى روسيا، "
    "وقالت وزارة الدفاع إن الدول الثلاث تعهدا بتعزيز التعاون العسكري لمواجهة أي تهديد. "
    "وذكرت وكالة يونهاب أن البرلمان أبلغ حكومة كيم بأن تدريب جرى حيث أصدرت الوكالة بيانا مشتركا."
)

_FLASH = "عاجل: لافروف يصل إلى بيونغ يانغ في زيارة تستغرق ثلاثة أيام"

_T0 = "كيم يبلغ لافروف بدعم غير مشروط لموسكو"
_T1 = "وزيرة خارجية كوريا الشمالية: سنواصل تعزيز ترسانتنا النووية"

DOCS: tuple[Doc, ...] = (
    # seed 0 (Reuters, Lavrov in Wonsan) and its copies
    Doc("s0.original", "s0", _T0, SEED0),
    Doc("s0.republished", "s0", "لافروف في كوريا الشمالية", join(S0)),
    Doc("s0.harakat", "s0", _T0, with_harakat(join(S0))),
    Doc("s0.respelled", "s0", _T0, respelled(join(S0), _TO_GHAIN)),
    Doc("s0.digits", "s0", _T0, indic_digits(SEED0)),
    Doc("s0.read_also", "s0", _T0, read_also(join(S0))),
    Doc("s0.new_lede", "s0", _T0, join([_S0_NEW_LEDE + S0[0].split(".", 1)[1], *S0[1:]])),
    Doc("s0.dropped", "s0", _T0, join([S0[0], S0[1], S0[3], S0[5]])),
    Doc("s0.trimmed", "s0", _T0, join(S0[:2])),
    Doc("s0.trimmed_mixed", "s0", "", read_also(with_harakat(respelled(join(S0[:2]), _TO_GHAIN)))),
    Doc("s0.no_dateline", "s0", _T0, join([S0[0].split(":", 1)[1].strip(), *S0[1:]])),
    # seed 1 (AFP, Choe Son Hui in Moscow) and its copies
    Doc("s1.original", "s1", _T1, SEED1),
    Doc("s1.respelled", "s1", _T1, respelled(SEED1, _TO_JIM)),
    Doc("s1.harakat_digits", "s1", _T1, indic_digits(with_harakat(SEED1))),
    Doc("s1.wrapped", "s1", _T1, read_also(join(S1)) + "\n" + _COMMENT_PROMPT),
    Doc("s1.new_lede", "s1", _T1, join([_S1_NEW_LEDE, *S1])),
    Doc("s1.dropped", "s1", _T1, join([p for i, p in enumerate(S1) if i % 3 != 2])),
    Doc("s1.trimmed", "s1", _T1, join(S1[:3])),
    Doc("s1.single_paragraph", "s1", _T1, " ".join(S1)),
    # different stories: other write-ups of the same events, same topic, words of seed 0
    Doc("w0.afp", "w0", "كيم لـ لافروف: ندعم موسكو من دون شروط", _DIFFERENT_WRITEUP_0),
    Doc("w0.afp_respelled", "w0", "", respelled(_DIFFERENT_WRITEUP_0, _TO_JIM)),
    Doc("w1.reuters", "w1", "بيونجيانج ستواصل تطوير قدراتها النووية", _DIFFERENT_WRITEUP_1),
    Doc("w1.reuters_trimmed", "w1", "", join(paragraphs(_DIFFERENT_WRITEUP_1)[:2])),
    Doc("topic.troops", "topic", "دفعة جديدة من الجنود الكوريين الشماليين", _SAME_TOPIC),
    Doc("salad.words_of_s0", "salad", "قاذفة أمريكية قرب كوريا الجنوبية", _WORDS_OF_SEED0),
    # flashes: shorter than SHORT_TOKENS, compared whole (title included)
    Doc("flash.arrives", "flash", "", _FLASH),
    Doc("flash.arrives_respelled", "flash", "عاجل", with_harakat(respelled(_FLASH, _TO_JIM))),
    Doc("flash.leaves", "flash2", "", "عاجل: لافروف يغادر بيونغ يانغ بعد زيارة استغرقت ثلاثة أيام"),
)

PAIRS: tuple[Pair, ...] = tuple(Pair(a, b, a.story == b.story) for a, b in combinations(DOCS, 2))
