"""Generate ``pipelines/data/concepts.yaml`` (run by hand; the output is committed).

    python pipelines/data/build_concepts.py

Countries and territories come from CLDR through Babel (Arabic and English names); a
nisba demonym is derived from single-word Arabic names (روسيا → روسي, مصر → مصري,
السعودية → سعودي); the hand-written tables below add official long forms, demonyms of
multi-word names, capitals used as metonyms, leaders, organisations and the
security/politics vocabulary with its broken plurals.  Babel is a build-time tool only.

Precision first: a country name that is also a common word is left out in its bare form
(مالي "financial", بنين "boys", سيول "floods", عمان = Amman), and names of other things that
contain a country name are listed so that the longest-name rule can block them
(ريال مدريد is not Spain, روسيا البيضاء is Belarus, أمريكا اللاتينية is not the USA).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import yaml
from babel import Locale

OUT = Path(__file__).with_name("concepts.yaml")

NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"}
# Arabic-speaking and neighbouring countries whose names are native words: never g-folded.
NATIVE = set(
    [
        "AE",
        "BH",
        "DZ",
        "EG",
        "IQ",
        "JO",
        "KW",
        "LB",
        "LY",
        "MA",
        "MR",
        "OM",
        "PS",
        "QA",
        "SA",
        "SD",
        "SO",
        "SY",
        "TN",
        "YE",
        "KM",
        "DJ",
        "IR",
        "TR",
        "IL",
        "EH",
        "SS",
    ]
)
# Names whose g-letter must not be folded: with ك or ق they are common words or another
# country (كينيا is Kenya, not غينيا; كانا "they were", قانا a Lebanese town; قوام
# "strength"; كيانا "an entity"; برتقال "orange"; بان كي مون).  Their غ and ج spellings
# are listed as literals instead of one foreign name.
SPELLED_OUT = {"GH", "GN", "GQ", "GW", "PG", "GU", "GY", "PT", "ME", "GI"}
# Bare names that are also common Arabic words: only their safe aliases are used.
AMBIGUOUS = {"ML": "مالي", "BJ": "بنين", "OM": "عمان", "JE": "جيرسي"}

# code: (extra English lookup names, extra literal aliases, extra foreign aliases, not:)
EXTRA: dict[str, tuple[list[str], list[str], list[str], list[str]]] = {
    "KP": (
        ["DPRK", "North Korean"],
        [
            "كوري شمالي",
            "جمهورية كوريا الشعبية الديمقراطية",
            "كوريا الديمقراطية",
            "كوريا الشعبية",
            "North Korean",
            "DPRK",
            "Pyongyang",
            "Kim Jong Un",
            "Democratic People's Republic of Korea",
        ],
        ["بيونغ يانغ", "كيم جونغ أون", "كيم جونغ اون"],
        [],
    ),
    "KR": (
        ["South Korean", "Republic of Korea", "ROK"],
        ["كوري جنوبي", "جمهورية كوريا", "سول", "South Korean", "Seoul", "Republic of Korea"],
        [],
        [],
    ),
    "RU": (
        ["Russian", "Russian Federation"],
        [
            "روسي",
            "روس",
            "الاتحاد الروسي",
            "روسيا الاتحادية",
            "موسكو",
            "الكرملين",
            "بوتين",
            "لافروف",
            "Russian",
            "Russians",
            "Moscow",
            "Kremlin",
            "Putin",
            "Russian Federation",
        ],
        ["فلاديمير بوتين"],
        ["دينامو موسكو", "سبارتاك موسكو", "لوكوموتيف موسكو", "سسكا موسكو"],
    ),
    "UA": (
        ["Ukrainian"],
        ["كييف", "زيلينسكي", "زيلنسكي", "Ukrainian", "Kyiv", "Kiev", "Zelensky", "Zelenskiy"],
        [],
        [],
    ),
    "US": (
        ["USA", "US", "America", "American", "United States of America"],
        [
            "أمريكا",
            "أميركا",
            "أمريكي",
            "أميركي",
            "الولايات المتحدة الأمريكية",
            "الولايات المتحدة الأميركية",
            "واشنطن",
            "البيت الأبيض",
            "البنتاغون",
            "البنتاجون",
            "ترامب",
            "بايدن",
            "American",
            "Americans",
            "Washington",
            "White House",
            "Pentagon",
            "U.S.",
            "US",
            "USA",
        ],
        [],
        [],
    ),
    "GB": (
        ["UK", "Britain", "Great Britain", "British"],
        ["بريطانيا", "بريطاني", "المملكة المتحدة", "لندن", "UK", "British", "Britain", "London"],
        [],
        [],
    ),
    "CN": (
        ["Chinese", "People's Republic of China"],
        ["صيني", "بكين", "جمهورية الصين الشعبية", "Chinese", "Beijing", "Xi Jinping"],
        ["شي جين بينغ"],
        [],
    ),
    "IR": (
        ["Iranian", "Persia"],
        ["طهران", "خامنئي", "الجمهورية الإسلامية الإيرانية", "Iranian", "Tehran", "Khamenei"],
        [],
        [],
    ),
    "IL": (
        ["Israeli"],
        ["تل أبيب", "نتنياهو", "Israeli", "Israelis", "Tel Aviv", "Netanyahu"],
        [],
        [],
    ),
    "PS": (
        ["Palestine", "Palestinian"],
        [
            "فلسطين",
            "دولة فلسطين",
            "فلسطيني",
            "السلطة الفلسطينية",
            "Palestine",
            "Palestinian",
            "Palestinians",
        ],
        [],
        [],
    ),
    "TR": (
        ["Turkey", "Turkish", "Türkiye"],
        [
            "تركي",
            "أتراك",
            "أنقرة",
            "أردوغان",
            "Turkey",
            "Türkiye",
            "Turkiye",
            "Turkish",
            "Ankara",
            "Erdogan",
        ],
        [],
        ["تركي الفيصل", "الأمير تركي", "تركي آل الشيخ"],  # a Saudi first name
    ),
    "SY": (["Syrian"], ["سورية", "سوري", "دمشق", "Syrian", "Damascus"], [], []),
    "IQ": (["Iraqi"], ["عراقي", "بغداد", "Iraqi", "Baghdad"], [], []),
    "EG": (["Egyptian"], ["مصري", "القاهرة", "Egyptian", "Cairo"], [], []),
    "SA": (
        ["Saudi", "Saudi Arabia"],
        ["السعودية", "سعودي", "الرياض", "Saudi", "Riyadh"],
        [],
        [],
    ),
    "AE": (
        ["UAE", "Emirati"],
        ["الإمارات", "إماراتي", "أبوظبي", "أبو ظبي", "UAE", "Emirati", "Abu Dhabi"],
        [],
        [],
    ),
    "QA": (
        ["Qatari"],
        ["قطري", "الدوحة", "Qatari", "Doha"],
        [],
        ["نصف قطر", "قطر الدائرة"],  # قطر is also a diameter
    ),
    "KW": (["Kuwaiti"], ["كويتي"], [], []),
    "BH": (["Bahraini"], ["بحريني", "المنامة", "Bahraini", "Manama"], [], []),
    "OM": (["Omani"], ["سلطنة عمان", "مسقط", "عماني", "Omani", "Muscat"], [], []),
    "YE": (
        ["Yemeni"],
        ["يمني", "صنعاء", "Yemeni", "Sanaa"],
        [],
        [  # اليمنى "the right (hand)" folds to اليمني "Yemeni"
            "اليد اليمنى",
            "الضفة اليمنى",
            "الجهة اليمنى",
            "القدم اليمنى",
            "الساق اليمنى",
            "العين اليمنى",
            "الأذن اليمنى",
            "الرجل اليمنى",
            "الركبة اليمنى",
            "يده اليمنى",
            "يدها اليمنى",
            "قدمه اليمنى",
            "ساقه اليمنى",
            "عينه اليمنى",
            "يمنة ويسرة",  # "left and right"
        ],
    ),
    "JO": (["Jordanian"], ["أردني", "Jordanian"], [], []),
    "LB": (["Lebanese"], ["لبناني", "بيروت", "Lebanese", "Beirut"], [], []),
    "LY": (["Libyan"], ["ليبي", "Libyan"], [], []),
    "SD": (["Sudanese"], ["سوداني", "الخرطوم", "Sudanese", "Khartoum"], [], []),
    "SS": (["South Sudanese"], ["جنوب السودان", "جوبا"], [], []),
    "DZ": (["Algerian"], ["جزائري", "Algerian", "Algiers"], [], []),
    "MA": (["Moroccan"], ["مغربي", "الرباط", "Moroccan", "Rabat"], [], []),
    "TN": (["Tunisian"], ["تونسي", "Tunisian", "Tunis"], [], []),
    "AF": (["Afghan"], ["أفغاني", "كابول", "Afghan", "Kabul"], [], []),
    "PK": (["Pakistani"], ["باكستاني", "إسلام آباد", "Pakistani", "Islamabad"], [], []),
    "IN": (["Indian"], ["هندي", "نيودلهي", "نيو دلهي", "Indian", "New Delhi"], [], []),
    "JP": (["Japanese"], ["ياباني", "طوكيو", "Japanese", "Tokyo"], [], []),
    "DE": (["German"], ["ألماني", "برلين", "German", "Berlin"], [], []),
    "FR": (
        ["French"],
        ["فرنسي", "باريس", "الإليزيه", "ماكرون", "French", "Paris"],
        [],
        ["باريس سان جيرمان"],
    ),
    "IT": (["Italian"], ["إيطالي", "روما", "Italian", "Rome"], [], []),
    "ES": (
        ["Spanish"],
        ["إسباني", "مدريد", "Spanish", "Madrid"],
        [],
        ["ريال مدريد", "أتلتيكو مدريد", "Real Madrid", "Atletico Madrid"],
    ),
    "GR": (["Greek"], ["يوناني", "أثينا", "Greek", "Athens"], [], []),
    "PL": (["Polish"], ["بولندي", "وارسو", "Polish", "Warsaw"], [], []),
    "HU": (["Hungarian"], ["المجر", "مجري", "بودابست", "Hungarian", "Budapest"], [], []),
    "CZ": (
        ["Czech Republic", "Czech"],
        ["جمهورية التشيك", "تشيكي", "براغ", "Czech", "Prague"],
        [],
        [],
    ),
    "DK": (["Danish"], ["الدنمارك", "دنماركي", "كوبنهاغن", "Danish", "Copenhagen"], [], []),
    "SE": (["Swedish"], ["سويدي", "ستوكهولم", "Swedish", "Stockholm"], [], []),
    "NO": (["Norwegian"], ["نرويجي", "أوسلو", "Norwegian", "Oslo"], [], []),
    "FI": (["Finnish"], ["فنلندي", "هلسنكي", "Finnish", "Helsinki"], [], []),
    "AT": (["Austrian"], ["نمساوي", "فيينا", "Austrian", "Vienna"], [], []),
    "NL": (["Dutch", "Netherlands"], ["هولندي", "أمستردام", "Dutch"], [], []),
    "IE": (["Irish"], ["أيرلندي", "إيرلندا", "دبلن", "Irish", "Dublin"], [], []),
    "BY": (["Belarusian"], ["بيلاروسيا", "روسيا البيضاء", "مينسك", "Belarusian", "Minsk"], [], []),
    "GE": (["Georgian"], ["تبليسي", "Tbilisi"], [], ["ولاية جورجيا"]),
    "AZ": (["Azerbaijani"], ["أذربيجاني", "باكو", "Baku"], [], []),
    "AM": (["Armenian"], ["أرميني", "يريفان", "Yerevan"], [], []),
    "RS": (["Serbian"], ["صربي", "بلغراد", "Belgrade"], [], []),
    "CA": (["Canadian"], ["كندي", "أوتاوا", "Canadian", "Ottawa"], [], []),
    "AU": (["Australian"], ["أسترالي", "كانبيرا", "Australian", "Canberra"], [], []),
    "BR": (["Brazilian"], ["برازيلي", "برازيليا", "Brazilian"], [], []),
    "MX": (["Mexican"], ["مكسيكي", "Mexican"], [], []),
    "VE": (["Venezuelan"], ["فنزويلي", "كاراكاس", "Venezuelan", "Caracas"], [], []),
    "CU": (["Cuban"], ["كوبي", "هافانا", "Cuban", "Havana"], [], []),
    "TW": (["Taiwanese"], ["تايواني", "تايبيه", "Taiwanese", "Taipei"], [], []),
    "VN": (["Vietnamese"], ["فيتنامي", "هانوي", "Vietnamese", "Hanoi"], [], []),
    "ID": (["Indonesian"], ["إندونيسي", "جاكرتا", "Indonesian", "Jakarta"], [], []),
    "ZA": (
        ["South African"],
        ["جنوب إفريقيا", "جنوب أفريقي", "جنوب إفريقي", "بريتوريا", "South African", "Pretoria"],
        [],
        [],
    ),
    "NG": (["Nigerian"], ["نيجيري", "أبوجا", "Nigerian", "Abuja"], [], []),
    "ET": (["Ethiopian"], ["إثيوبي", "أديس أبابا", "Ethiopian", "Addis Ababa"], [], []),
    "KE": (["Kenyan"], ["كيني", "نيروبي", "Kenyan", "Nairobi"], [], []),
    "SO": (["Somali"], ["صومالي", "مقديشو", "Somali", "Mogadishu"], [], []),
    "MM": (["Burma", "Burmese"], ["ميانمار", "بورما", "Myanmar", "Burma"], [], []),
    "CD": (
        ["DRC", "Democratic Republic of the Congo", "Congo - Kinshasa"],
        [
            "الكونغو الديمقراطية",
            "جمهورية الكونغو الديمقراطية",
            "الكونغو",
            "كينشاسا",
            "DRC",
            "Kinshasa",
        ],
        ["الكونغو الديمقراطية", "جمهورية الكونغو الديمقراطية", "الكونغو", "كينشاسا"],
        [],
    ),
    "CG": (
        ["Congo-Brazzaville", "Congo - Brazzaville"],
        ["جمهورية الكونغو", "برازافيل", "Brazzaville"],
        ["جمهورية الكونغو", "برازافيل"],
        [],
    ),
    "CI": (["Ivory Coast", "Cote d'Ivoire"], ["كوت ديفوار", "Ivory Coast"], [], []),
    "ML": (["Malian"], ["جمهورية مالي", "دولة مالي", "باماكو", "Malian", "Bamako"], [], []),
    "BJ": (["Beninese"], ["جمهورية بنين", "دولة بنين", "بورتو نوفو", "Benin"], [], []),
    "TD": (["Chadian"], ["تشادي", "نجامينا", "انجامينا", "Chadian", "N'Djamena"], [], []),
    "NE": (["Nigerien"], ["نيامي", "Niamey"], [], []),
    "MR": (["Mauritanian"], ["موريتاني", "نواكشوط", "Nouakchott"], [], []),
    "HK": (["Hong Kong"], ["هونغ كونغ", "هونج كونج", "Hong Kong"], ["هونغ كونغ"], []),
    "MO": (["Macau", "Macao"], ["ماكاو", "Macau", "Macao"], [], []),
    "VA": (["Vatican", "Holy See"], ["الفاتيكان", "الكرسي الرسولي", "Vatican"], [], []),
    "MK": (["Macedonia"], ["مقدونيا الشمالية", "سكوبيي"], [], []),
    "BA": (
        ["Bosnia", "Bosnia and Herzegovina"],
        ["البوسنة", "البوسنة والهرسك", "سراييفو", "Bosnia", "Sarajevo"],
        [],
        [],
    ),
    "EH": (["Western Sahara"], ["الصحراء الغربية"], [], []),
    "XK": (["Kosovar"], ["كوسوفو", "بريشتينا", "Pristina"], [], []),
}
# Wire-copy additions, found by probing Reuters/AFP/AP phrasing: leaders, capitals and
# other metonyms, broken plurals, and the longer names that merely contain a country name.
# code: (literal aliases, foreign aliases, not:)
WIRE: dict[str, tuple[list[str], list[str], list[str]]] = {
    "US": (
        [
            "أمريكان",
            "أميركان",
            "واشنطون",
            "ترمب",
            "الكونغرس",
            "الكونجرس",
            "روبيو",
            "Trump",
            "Biden",
            "Rubio",
        ],
        [],
        [
            "واشنطن بوست",
            "ولاية واشنطن",
            "Washington Post",
            "Washington state",
            # the Americas; a feminine dual «ناقلتين أمريكيتين» is spelled the same
            "الأمريكيتين",
            "الأميركيتين",
            "الأمريكيتان",
            "الأميركيتان",
            "Americas",
        ],
    ),
    "GB": (["ستارمر", "Starmer", "Downing Street"], ["داونينغ ستريت"], []),
    "RU": (
        ["بيسكوف", "ميدفيديف", "Lavrov", "Peskov", "Medvedev"],
        [],
        ["فروسية"],  # horsemanship (ف + روسية); «بروسيا» is "in Russia" more than Prussia
    ),
    "UA": (["Zelenskyy"], [], ["دينامو كييف", "Dynamo Kyiv", "Dynamo Kiev"]),
    # A foreign name whose first word is shorter than three letters is never looked up
    # as a foreign name (شي, لي): its spellings are listed as literals.
    "CN": (
        ["Xi", "شي جين بينغ", "شي جين بينج", "شي جينبينغ", "شي جينبينج"],
        ["وانغ يي"],
        [],
    ),
    "TW": (["Lai Ching-te"], ["لاي تشينغ تي"], []),
    "KR": (
        ["Lee Jae-myung", "لي جاي ميونغ", "لي جاي ميونج", "لي جيه ميونغ", "لي جيه ميونج"],
        [],
        ["كسول"],  # "lazy": ك + سول
    ),
    "JP": (["إيشيبا", "تاكايتشي", "Ishiba", "Takaichi"], [], []),
    "IN": (
        ["ناريندرا مودي", "هنود", "Modi"],  # مودي alone is مؤدي "leading to"
        [],
        ["هند رجب", "هند صبري", "الهنود الحمر"],  # هند is also a woman's name
    ),
    "PK": (["شهباز شريف", "Shehbaz Sharif"], [], []),
    "AF": (["أفغان"], [], []),
    "IR": (
        [
            "بزشكيان",
            "عراقجي",
            "عراقتشي",
            "الحرس الثوري",
            "Pezeshkian",
            "Araghchi",
            "Revolutionary Guards",
            "IRGC",
        ],
        [],
        [],
    ),
    "IL": (
        [
            "الدولة العبرية",
            "الكنيست",
            "نتانياهو",
            "Knesset",
            "Jewish state",
            "IDF",
        ],
        ["هرتسوغ"],
        ["بني إسرائيل", "بنو إسرائيل"],
    ),
    "PS": (["محمود عباس", "أبو مازن", "Mahmoud Abbas"], [], []),
    "SY": (["أحمد الشرع", "بشار الأسد", "Sharaa", "Assad"], [], []),
    "LB": (["جوزيف عون", "نواف سلام"], [], []),
    "IQ": (["محمد شياع السوداني", "شياع السوداني"], [], ["عراقة"]),  # "ancientness"
    "JO": (
        ["الملك عبد الله الثاني"],
        [],
        [
            "نهر الأردن",
            "غور الأردن",
            "وادي الأردن",
            "Jordan River",
            "River Jordan",
            "Jordan Valley",
            "Jordan Bardella",
            "Michael Jordan",
            "Jim Jordan",
        ],
    ),
    "EG": (["السيسي", "Sisi"], [], ["القوة القاهرة"]),  # force majeure
    "SA": (
        ["محمد بن سلمان", "بن سلمان", "الملك سلمان", "فيصل بن فرحان", "Mohammed bin Salman"],
        [],
        [  # الرياض folds to رياض: sport, and a first name
            "رياضة",
            "رياضات",
            "رياضي",
            "رياضية",
            "رياضيين",
            "رياضيون",
            "رياض سلامة",
            "رياض المالكي",
            "رياض منصور",
            "رياض حجاب",
        ],
    ),
    "AE": (["محمد بن زايد", "Mohammed bin Zayed"], [], []),
    "QA": (["تميم بن حمد"], [], ["قطر المطر", "قطرة", "قطرات", "قطران"]),  # drops, tar
    "TR": (["أردوجان", "هاكان فيدان", "Erdoğan", "Turk"], [], ["turkeys"]),  # the birds
    "LY": (
        ["طرابلس", "حفتر", "الدبيبة", "Tripoli", "Haftar", "Dbeibah"],
        [],
        [  # Tripoli of Lebanon
            "طرابلس اللبنانية",
            "طرابلس شمال لبنان",
            "طرابلس بشمال لبنان",
            "طرابلس في شمال لبنان",
            "طرابلس الشام",
            "Tripoli, Lebanon",
            "Lebanon's Tripoli",
            "Lebanese city of Tripoli",
        ],
    ),
    "SD": (
        ["بورتسودان", "بور سودان", "عبد الفتاح البرهان", "حميدتي", "Port Sudan", "Hemedti"],
        [],
        ["محمد شياع السوداني", "شياع السوداني"],  # Iraq's prime minister
    ),
    "SS": (["جنوب سوداني", "سلفا كير", "South Sudanese", "Salva Kiir"], [], []),
    "DZ": (["تبون", "Tebboune"], [], []),
    "MA": (
        ["مغاربة", "الملك محمد السادس"],
        [],
        ["صلاة المغرب", "أذان المغرب", "وقت المغرب", "رباطة الجأش"],  # sunset prayer
    ),
    "TN": (["قيس سعيد", "Kais Saied"], [], []),
    "DE": (
        ["ألمان", "ميرتس", "ميرز", "شولتس", "شولتز", "Merz", "Scholz", "Bundeswehr"],
        [],
        ["يونيون برلين", "هيرتا برلين", "Union Berlin", "Hertha Berlin"],  # football clubs
    ),
    "NL": ([], [], ["أياكس أمستردام", "Ajax Amsterdam"]),
    "CZ": ([], [], ["سلافيا براغ", "سبارتا براغ", "Slavia Prague", "Sparta Prague"]),
    "FR": (["Macron", "Elysee", "Élysée"], [], []),
    "IT": (["طليان", "ميلوني", "Meloni"], [], ["نظام روما", "Rome Statute"]),
    "ES": (["إسبان", "Spaniard"], [], []),
    "PL": (["توسك", "Donald Tusk"], [], []),  # tusks
    "HU": (
        ["أوربان", "Orban", "Orbán"],
        [],
        [  # المجر folds into مجرى "course" and مجرة "galaxy"
            "مجرة",
            "مجرات",
            "مجرى التحقيق",
            "مجرى التحقيقات",
            "مجرى الأحداث",
            "مجرى الأمور",
            "مجرى التاريخ",
            "مجرى النهر",
            "مجرى المياه",
            "مجرى السيل",
        ],
    ),
    "DK": ([], ["كوبنهاغن"], []),
    "NO": (
        [],
        [],
        ["اتفاق أوسلو", "اتفاقيات أوسلو", "اتفاقية أوسلو", "Oslo Accords", "Oslo accord"],
    ),
    "BY": (["لوكاشينكو", "Lukashenko"], [], ["اتفاقيات مينسك", "Minsk agreements"]),
    "GE": (
        [],
        [],
        [  # the U.S. state
            "Atlanta, Georgia",
            "Savannah, Georgia",
            "state of Georgia",
            "Georgia Senate",
            "Georgia's governor",
            "Georgia Governor",
            "Georgia voters",
            "Georgia Republican",
            "Georgia Democrat",
            "University of Georgia",
            "Georgia Tech",
        ],
    ),
    "AZ": (["أذري", "علييف", "Azeri", "Aliyev"], [], []),
    "AM": (["أرمن", "باشينيان", "Pashinyan"], [], []),
    "RS": (["صرب", "فوتشيتش", "Serb", "Vucic"], [], ["صرب البوسنة", "Bosnian Serb"]),
    "HR": (["كروات", "Croat", "Zagreb"], ["زغرب"], ["دينامو زغرب", "Dinamo Zagreb"]),
    "BA": (["بوسني"], [], []),
    "RO": (
        ["بوخارست", "Bucharest"],
        [],
        ["الإمبراطورية الرومانية", "القانون الروماني", "العصر الروماني", "الحقبة الرومانية"],
    ),
    "AL": (["تيرانا", "Tirana"], [], []),
    "PT": (["لشبونة", "Lisbon"], [], []),
    "KZ": (
        ["أستانا", "Astana"],
        [],
        ["مسار أستانا", "صيغة أستانا", "Astana process", "Astana format"],  # Syria talks
    ),
    "UZ": (["طشقند", "Tashkent"], [], []),
    "MX": (
        ["مكسيكو سيتي", "شينباوم", "Sheinbaum"],
        [],
        ["New Mexico", "نيو مكسيكو"],
    ),
    "JE": ([], [], ["New Jersey", "jerseys"]),
    "VE": (["مادورو", "Maduro"], [], []),
    "CU": ([], [], ["متلازمة هافانا", "Havana syndrome"]),
    "BR": (["لولا دا سيلفا", "Lula"], [], []),
    "AR": (["بوينس آيرس", "Buenos Aires", "Milei"], [], []),
    "CO": (["Bogota"], ["بوغوتا"], []),
    "NG": (["دلتا النيجر", "تينوبو", "Niger Delta", "Tinubu"], [], []),
    "NE": ([], [], ["نهر النيجر", "Niger River", "River Niger"]),
    "GN": (["كوناكري", "Conakry"], [], ["guinea pig"]),
    "GW": (["بيساو", "Bissau", "Bissau-Guinean"], [], []),
    "GQ": (["مالابو", "Malabo", "Equatorial Guinean"], [], []),
    "PG": (["Papua New Guinean"], [], []),
    "CD": (  # wire copy's bare "Congo", like «الكونغو», is this one
        [
            "كونغولي",
            "كونجولي",
            "Democratic Republic of the Congo",
            "Democratic Republic of Congo",
            "Congo",
            "Congolese",
        ],
        [],
        ["نهر الكونغو", "حوض الكونغو", "Congo River", "Congo Basin"],
    ),
    "CG": (["Republic of Congo", "Congo Republic"], ["الكونغو برازافيل"], []),
    "CI": (["إيفواري", "أبيدجان", "Abidjan"], [], []),
    "BF": (["بوركينابي", "Burkinabe", "Ouagadougou"], ["واغادوغو"], []),
    "CF": (
        ["أفريقيا الوسطى", "إفريقيا الوسطى", "بانغي", "بانجي", "Bangui"],
        ["أفريقيا الوسطى"],
        [],
    ),
    "SN": (["داكار", "Dakar"], [], ["رالي داكار", "Dakar Rally"]),
    "ET": (["آبي أحمد", "Abiy Ahmed"], [], []),
    "ER": (["أسمرة", "Asmara"], [], []),
    "UG": (["كمبالا", "موسيفيني", "Kampala", "Museveni"], [], []),
    "RW": (["Kigali", "Kagame"], ["كيغالي", "كاغامي"], []),
    "ZA": (["رامافوزا", "Ramaphosa"], [], []),
    "TL": (["East Timor"], [], []),
    "OM": ([], [], ["مسقط رأس"]),  # birthplace
    # capitals used as metonyms
    "GH": (["Accra"], [], []),  # «أكرا» is in «إكراه» "coercion"
    "CM": (["ياوندي", "Yaounde"], [], []),
    "ZW": (["هراري", "Harare"], [], []),
    "AO": (["لواندا", "Luanda"], [], []),
    "MZ": (["مابوتو", "Maputo"], [], []),
    "GA": (["ليبرفيل", "Libreville"], [], []),
    "NP": (["كاتماندو", "Kathmandu"], [], []),
    "LK": (["كولومبو", "Colombo"], [], []),
    "TH": (["بانكوك", "Bangkok"], [], []),
    "PH": (["مانيلا", "Manila"], [], []),
    "MY": (["كوالالمبور", "كوالا لمبور", "Kuala Lumpur"], [], []),
    "KH": (["بنوم بنه", "Phnom Penh"], [], []),
    "KG": (["بيشكك", "Bishkek"], [], []),
    "TJ": (["دوشنبه", "Dushanbe"], [], []),
    "TM": (["عشق آباد", "Ashgabat"], [], []),
    "CY": (["نيقوسيا", "Nicosia"], [], []),
    "SK": (["براتيسلافا", "Bratislava"], [], []),
    "SI": (["ليوبليانا", "Ljubljana"], [], []),
    "MD": (["كيشيناو", "Chisinau"], [], []),
    "LT": (["فيلنيوس", "Vilnius"], [], []),
    "LV": (["ريغا", "ريجا", "Riga"], [], []),
    "EE": (["Tallinn"], [], []),  # «التالين» "the following"
    "IS": (["ريكيافيك", "Reykjavik"], [], []),
    "NU": ([], [], ["بنيوي", "بنيوية"]),  # "structural": ب + نيوي
}
# English demonyms that are not CLDR names (plurals in -s/-es match on their own).
EN_DEMONYMS: dict[str, list[str]] = {
    "AL": ["Albanian"],
    "AO": ["Angolan"],
    "AR": ["Argentine", "Argentinian"],
    "AM": ["Armenian"],
    "AZ": ["Azerbaijani"],
    "BD": ["Bangladeshi"],
    "BE": ["Belgian"],
    "BO": ["Bolivian"],
    "BA": ["Bosnian"],
    "BG": ["Bulgarian"],
    "BI": ["Burundian"],
    "KH": ["Cambodian"],
    "CM": ["Cameroonian"],
    "CL": ["Chilean"],
    "CO": ["Colombian"],
    "CR": ["Costa Rican"],
    "HR": ["Croatian"],
    "CY": ["Cypriot"],
    "DJ": ["Djiboutian"],
    "DO": ["Dominican"],
    "EC": ["Ecuadorian", "Ecuadorean"],
    "SV": ["Salvadoran"],
    "ER": ["Eritrean"],
    "EE": ["Estonian"],
    "GA": ["Gabonese"],
    "GM": ["Gambian"],
    "GH": ["Ghanaian"],
    "GT": ["Guatemalan"],
    "GN": ["Guinean"],
    "HT": ["Haitian"],
    "HN": ["Honduran"],
    "IS": ["Icelandic", "Icelander"],
    "CI": ["Ivorian"],
    "JM": ["Jamaican"],
    "KZ": ["Kazakh", "Kazakhstani"],
    "KG": ["Kyrgyz"],
    "LA": ["Laotian"],
    "LV": ["Latvian"],
    "LR": ["Liberian"],
    "LT": ["Lithuanian"],
    "MG": ["Malagasy"],
    "MW": ["Malawian"],
    "MY": ["Malaysian"],
    "MT": ["Maltese"],
    "MR": ["Mauritanian"],
    "MD": ["Moldovan"],
    "MN": ["Mongolian"],
    "ME": ["Montenegrin"],
    "MZ": ["Mozambican"],
    "NA": ["Namibian"],
    "NP": ["Nepali", "Nepalese"],
    "NZ": ["New Zealander"],
    "NI": ["Nicaraguan"],
    "MK": ["North Macedonian"],
    "PA": ["Panamanian"],
    "PY": ["Paraguayan"],
    "PE": ["Peruvian"],
    "PH": ["Filipino", "Philippine"],
    "PT": ["Portuguese"],
    "RO": ["Romanian"],
    "RW": ["Rwandan"],
    "SN": ["Senegalese"],
    "RS": ["Serbian"],
    "SL": ["Sierra Leonean"],
    "SG": ["Singaporean"],
    "SK": ["Slovak", "Slovakian"],
    "SI": ["Slovenian", "Slovene"],
    "LK": ["Sri Lankan"],
    "CH": ["Swiss"],
    "TJ": ["Tajik"],
    "TZ": ["Tanzanian"],
    "TH": ["Thai"],
    "TL": ["Timorese"],
    "TG": ["Togolese"],
    "TM": ["Turkmen"],
    "UG": ["Ugandan"],
    "UY": ["Uruguayan"],
    "UZ": ["Uzbek"],
    "ZM": ["Zambian"],
    "ZW": ["Zimbabwean"],
    "GB": ["Briton"],
    "FR": ["Frenchman"],
    "NL": ["Dutchman"],
}
# Egyptian spellings (غ → ج) that are everyday words: الجيني "genetic", الجاني "the
# culprit", لجأنا "we turned to" (ل + جانا).
COMMON_WORDS = {"جيني", "جاني", "جانا"}

# Regions, organisations and other names: concepts of their own, and blockers for the
# longest-name rule.
OTHER: list[dict[str, Any]] = [
    {
        "name": "Latin America",
        "kind": "region",
        "literal": ["أمريكا اللاتينية", "أميركا اللاتينية", "Latin America"],
    },
    {
        "name": "South America",
        "kind": "region",
        "literal": ["أمريكا الجنوبية", "أميركا الجنوبية", "South America"],
    },
    {
        "name": "North America",
        "kind": "region",
        "literal": ["أمريكا الشمالية", "أميركا الشمالية", "North America"],
    },
    {
        "name": "Central America",
        "kind": "region",
        "literal": ["أمريكا الوسطى", "أميركا الوسطى", "Central America"],
    },
    {
        "name": "Korean Peninsula",
        "kind": "region",
        "literal": ["شبه الجزيرة الكورية", "Korean Peninsula"],
    },
    {
        "name": "Northern Ireland",
        "kind": "region",
        "literal": ["أيرلندا الشمالية", "إيرلندا الشمالية", "Northern Ireland"],
    },
    {"name": "Indochina", "kind": "region", "literal": ["الهند الصينية", "Indochina"]},
    {
        "name": "Maghreb",
        "kind": "region",
        "literal": ["المغرب العربي", "دول المغرب العربي", "Maghreb"],
    },
    {"name": "Middle East", "kind": "region", "literal": ["الشرق الأوسط", "Middle East"]},
    {
        "name": "Gaza",
        "kind": "region",
        "also": ["Gaza Strip"],
        "literal": ["غزة", "قطاع غزة", "Gaza"],
    },
    {"name": "West Bank", "kind": "region", "literal": ["الضفة الغربية", "West Bank"]},
    {"name": "Crimea", "kind": "region", "literal": ["القرم", "شبه جزيرة القرم", "Crimea"]},
    {"name": "Kursk", "kind": "region", "literal": ["كورسك", "Kursk"]},
    {"name": "Donbas", "kind": "region", "literal": ["دونباس", "Donbas", "Donbass"]},
    {
        "name": "European Union",
        "kind": "entity",
        "also": ["EU"],
        "literal": ["الاتحاد الأوروبي", "European Union", "EU"],
    },
    {
        "name": "United Nations",
        "kind": "entity",
        "also": ["UN"],
        "literal": [
            "الأمم المتحدة",
            "مجلس الأمن الدولي",
            "United Nations",
            "UN",
            "U.N.",
            "Guterres",
        ],
        "foreign": ["غوتيريش", "غوتيريس"],
    },
    {
        "name": "NATO",
        "kind": "entity",
        "also": ["North Atlantic Treaty Organization"],
        "literal": ["الناتو", "حلف شمال الأطلسي", "حلف الأطلسي", "NATO"],
    },
    {
        "name": "IAEA",
        "kind": "entity",
        "also": ["International Atomic Energy Agency"],
        "literal": ["الوكالة الدولية للطاقة الذرية", "IAEA", "Grossi"],
        "foreign": ["غروسي"],
    },
    {
        "name": "Hamas",
        "kind": "entity",
        "literal": [
            "حماس",
            "حركة حماس",
            "يحيى السنوار",
            "خليل الحية",
            "إسماعيل هنية",
            "Hamas",
            "Sinwar",
            "Haniyeh",
        ],
        # حماس is also "enthusiasm", which the movement's name never inflects like
        "not": ["حماسة", "حماسها", "حماسهم", "بحماس كبير", "بحماس شديد", "بكل حماس"],
    },
    {
        "name": "Hezbollah",
        "kind": "entity",
        "literal": [
            "حزب الله",
            "حسن نصر الله",
            "نعيم قاسم",
            "Hezbollah",
            "Hizbollah",
            "Nasrallah",
            "Naim Qassem",
        ],
    },
    {
        "name": "Houthis",
        "kind": "entity",
        "also": ["Houthi", "Ansar Allah"],
        "literal": [
            "الحوثي",
            "الحوثيين",
            "حوثيين",
            "حوثيون",
            "أنصار الله",
            "Houthi",
            "Houthis",
            "Ansar Allah",
        ],
    },
    {
        "name": "Islamic State",
        "kind": "entity",
        "also": ["ISIS", "ISIL", "Daesh"],
        "literal": [
            "داعش",
            "تنظيم الدولة الإسلامية",
            "تنظيم الدولة",
            "الدولة الإسلامية في العراق والشام",
            "ISIS",
            "ISIL",
            "Daesh",
            "Islamic State",
        ],
    },
    {"name": "Taliban", "kind": "entity", "literal": ["طالبان", "حركة طالبان", "Taliban"]},
    {
        "name": "Rapid Support Forces",
        "kind": "entity",
        "also": ["RSF"],
        "literal": ["قوات الدعم السريع", "الدعم السريع", "Rapid Support Forces", "RSF"],
    },
    {"name": "Real Madrid", "kind": "entity", "literal": ["ريال مدريد", "Real Madrid"]},
    {
        "name": "Paris Saint-Germain",
        "kind": "entity",
        "also": ["PSG"],
        "literal": ["باريس سان جيرمان", "Paris Saint-Germain", "PSG"],
    },
]
# Core security and politics vocabulary: singulars, broken plurals, synonyms, English.
TOPICS: list[dict[str, Any]] = [
    {
        "name": "troops",
        "also": ["soldiers", "forces", "soldier"],
        "literal": [
            "قوات",
            "جنود",
            "جندي",
            "جندية",
            "مجند",
            "مجندة",
            "عساكر",
            "عسكريين",
            "عسكريون",
            "مقاتلين",
            "مقاتلون",
            "مقاتلي",  # «مقاتلي الحركة»; not مقاتلات (fighter jets)
            "قوة عسكرية",
            "troops",
            "troop",
            "soldier",
            "soldiers",
            "forces",
            "servicemen",
            "service members",
            "servicemembers",
            "military personnel",
        ],
        "not": [
            # the tomb of the unknown soldier; «doctors are unsung soldiers»
            "الجندي المجهول",
            "جنود مجهولون",
            "جنود مجهولين",
            "Unknown Soldier",
            "scout troop",
            # a Lebanese party (حزب القوات اللبنانية)
            "حزب القوات",
            "القوات اللبنانية",
            # forces that are not armed
            "market forces",
            "economic forces",
            "political forces",
            "forces of nature",
            "join forces",
            "joined forces",
            "joining forces",
            "joins forces",
        ],
    },
    {
        "name": "army",
        "also": ["military"],
        "literal": ["جيش", "جيوش", "army", "armies", "military"],
        "not": ["Salvation Army", "الجيش الأبيض"],  # doctors and nurses
    },
    {
        "name": "missile",
        "also": ["missiles", "rocket", "rockets"],
        "literal": ["صاروخ", "صواريخ", "صاروخي", "قذيفة صاروخية", "missile", "rocket", "ICBM"],
        "not": [
            # prices "rocketing"
            "ارتفاع صاروخي",
            "صعود صاروخي",
            "قفزة صاروخية",
            "بسرعة الصاروخ",
            # a shot in football
            "تسديدة صاروخية",
            "صاروخا من خارج منطقة الجزاء",
            "صاروخية من خارج منطقة الجزاء",
            "صاروخا من خارج المنطقة",
            "صاروخية من خارج المنطقة",
            # space launchers (a North Korean "satellite launch" stays a missile)
            "صاروخ فالكون",
            "صاروخ سويوز",
            "صاروخ أريان",
            "صاروخ ستارشيب",
            "Falcon 9 rocket",
            "Falcon Heavy rocket",
            "Soyuz rocket",
            "Ariane rocket",
            "Starship rocket",
            "Houston Rockets",
            "rocket science",
            "rocket scientist",
        ],
    },
    {
        "name": "nuclear",
        "also": ["atomic"],
        "literal": [
            "نووي",
            # ذرية alone is also "progeny" («ذريته»): only in phrases
            "قنبلة ذرية",
            "قنابل ذرية",
            "الطاقة الذرية",
            "أسلحة ذرية",
            "سلاح ذري",
            "تجربة ذرية",
            "تجارب ذرية",
            "تفجير ذري",
            "تخصيب اليورانيوم",
            "اليورانيوم المخصب",
            "يورانيوم مخصب",
            "nuclear",
            "atomic",
            "uranium enrichment",
            "enriched uranium",
        ],
        "not": [
            "الأسرة النووية",
            "أسرة نووية",
            "الأسر النووية",
            "أسر نووية",
            "الطب النووي",
            "طب نووي",
            "الرنين المغناطيسي النووي",
            "nuclear family",
            "nuclear families",
            "nuclear medicine",
            "nuclear magnetic resonance",
            "nuclear option",
        ],
    },
    {
        "name": "sanctions",
        "also": ["sanction", "embargo"],
        "literal": [
            "عقوبات",
            "عقوبات اقتصادية",
            "حظر تصدير",
            "حظر الأسلحة",
            "تدابير عقابية",
            "إجراءات عقابية",
            "تجميد الأصول",
            "sanctions",
            "sanction",
            "sanctioned",
            "sanctioning",
            "embargo",
            "asset freeze",
        ],
        "not": [
            # penalties of a court, a school or a sports body
            "قانون العقوبات",
            "عقوبات بالسجن",
            "عقوبات السجن",
            "عقوبات انضباطية",
            "عقوبات بدنية",
            "عقوبات بديلة",
            "disciplinary sanctions",
            # "approved"
            "state-sanctioned",
            "government-sanctioned",
            "officially sanctioned",
        ],
    },
    {
        "name": "drone",
        "also": ["drones", "UAV"],
        "literal": [
            "طائرة مسيرة",
            "طائرات مسيرة",
            "مسيرات",
            "طائرة بدون طيار",
            "طائرات بدون طيار",
            "طائرة من دون طيار",
            "طائرات من دون طيار",
            "دون طيار",  # بدون طيار, من دون طيار
            "مسيرة مفخخة",
            "مسيرة انتحارية",
            "مسيرة هجومية",
            "مسيرة إسرائيلية",
            "مسيرة روسية",
            "مسيرة أوكرانية",
            "مسيرة إيرانية",
            "مسيرة حوثية",
            "مسيرة معادية",
            "مسيرة انقضاضية",
            "مسيرة استطلاع",
            "مسيرة من طراز",
            "مسيرة أطلقتها",
            "مسيرات أطلقتها",
            "إسقاط مسيرة",
            "اعتراض مسيرة",
            "درون",
            "drone",
            "UAV",
            "بلا طيار",
        ],
        # مسيرات are also marches
        "not": [
            "مسيرات احتجاجية",
            "مسيرات سلمية",
            "مسيرات حاشدة",
            "مسيرات شعبية",
            "مسيرات العودة",
            "مسيرات تضامنية",
            "مسيرات جماهيرية",
            "مسيرات غاضبة",
            "مسيرات منددة",
            "مسيرات مؤيدة",
            "مسيرات رافضة",
            "مسيرات مليونية",
            "مسيرات طلابية",
            "مسيرات الغضب",
            "مسيرات تضامنا",
            "مسيرات للمطالبة",
            "خرجت مسيرات",
            "خروج مسيرات",
            "نظمت مسيرات",
            "تنظيم مسيرات",
            "جابت مسيرات",
        ],
    },
    {
        "name": "attack",
        "also": ["attacks", "assault"],
        "literal": [
            "هجوم",
            "هجمات",
            "هجمة",
            "اعتداء",
            "اعتداءات",
            "هاجم",
            "هاجمت",
            "هاجموا",
            "attack",
            "attacked",
            "assault",
        ],
        "not": [
            # football
            "خط الهجوم",
            "هجمة مرتدة",
            "هجمات مرتدة",
            "هجوم مرتد",
            "هجوم الجراد",
            "shark attack",
            # words, not arms
            "هجوم لاذع",
            "هجوم حاد",
            "هجوم كلامي",
            "هجوم إعلامي",
            # illness
            "heart attack",
            "panic attack",
            "asthma attack",
            "anxiety attack",
        ],
    },
    {
        "name": "airstrike",
        "also": ["air strike", "airstrikes", "air raid"],
        "literal": [
            "غارة",
            "غارات",
            "غارة جوية",
            "قصف جوي",
            "ضربة جوية",
            "ضربات جوية",
            "airstrike",
            "air strike",
            "air raid",
        ],
    },
    {
        "name": "shelling",
        "also": ["bombardment"],
        "literal": ["قصف", "قصفت", "قصفوا", "قصف مدفعي", "shelling", "shelled", "bombardment"],
    },
    {
        "name": "ceasefire",
        "also": ["truce", "cease-fire"],
        "literal": [
            "وقف إطلاق النار",
            "وقف لإطلاق النار",
            "وقف إطلاق نار",
            "هدنة",
            "هدن",
            "وقف الأعمال العدائية",
            "ceasefire",
            "cease-fire",
            "truce",
            "وقف النار",
            # «وقف فوري لإطلاق النار»: an adjective between (not «لإطلاق النار» alone:
            # «تعرضت دورية لإطلاق النار» is gunfire)
            "وقف فوري لإطلاق النار",
            "وقف دائم لإطلاق النار",
            "وقف شامل لإطلاق النار",
            "وقف مؤقت لإطلاق النار",
            "وقف كامل لإطلاق النار",
            "وقف إنساني لإطلاق النار",
            "اتفاق تهدئة",
            "armistice",
        ],
    },
    {
        "name": "weapons",
        "also": ["weapon", "arms"],
        "literal": ["سلاح", "أسلحة", "weapon", "arms", "weaponry"],
        "not": [
            "سلاح ذو حدين",
            "سلاحا ذا حدين",
            # limbs
            "open arms",
            "his arms",
            "her arms",
            "their arms",
            "my arms",
            "your arms",
            "arms and legs",
            "up in arms",
            "coat of arms",
        ],
    },
    {
        "name": "ammunition",
        "also": ["munitions", "shells"],
        "literal": [
            "ذخيرة",
            "ذخائر",
            "قذائف مدفعية",
            "قذيفة مدفعية",
            "قذائف هاون",
            "ammunition",
            "munitions",
            "artillery shells",
            "artillery rounds",
            "mortar shells",
        ],
    },
    {
        "name": "war",
        "literal": ["حرب", "حروب", "war", "wars", "warfare"],
        "not": [
            "حرب تجارية",
            "حرب الأسعار",
            "حرب أسعار",
            "حرب كلامية",
            "حرب إعلامية",
            "حرب التصريحات",
            "حرب على الفساد",
            "trade war",
            "price war",
            "wares",
            "war of words",
            "war on drugs",
            "war on poverty",
            "war on corruption",
            "culture war",
            "culture wars",
            "Star Wars",
            "حرب النجوم",
        ],
    },
    {
        "name": "explosion",
        "also": ["blast", "bombing"],
        "literal": [
            "انفجار",
            "انفجارات",
            "انفجر",
            "انفجرت",
            "تفجير",
            "تفجيرات",
            "explosion",
            "exploded",
            "blast",
            "bombing",
            "bomb",
        ],
        "not": [
            "انفجار سكاني",
            "الانفجار العظيم",
            "population explosion",
            "blast furnace",
        ],
    },
    {
        "name": "killed",
        "also": ["dead", "casualties", "deaths"],
        "literal": [
            "قتيل",
            "قتلى",
            "مقتل",
            "مصرع",
            "قتل",
            "قتلوا",
            "حتف",  # «لقي حتفه», «لقوا حتفهم»: met their death
            "أودى بحياة",
            "أودت بحياة",
            # martyred: how most Arab wires report a Palestinian or Lebanese death
            "استشهد",
            "استشهدت",
            "استشهدوا",
            "استشهاد",
            "عدد الشهداء",
            "سقوط شهداء",
            "killed",
            "killing",
            "dead",
            "deaths",
            "casualties",
            "kill",
        ],
        "not": [
            "قتل الوقت",
            # «استشهد بقول»: he quoted
            "استشهد بقول",
            "استشهد بآية",
            "استشهد بمقولة",
            "استشهاد بقول",
            "killing time",
            "Dead Sea",
            "dead heat",
            "dead end",
        ],
    },
    {
        "name": "terrorism",
        "also": ["terrorist", "terror"],
        "literal": ["إرهاب", "إرهابي", "terrorism", "terrorist", "terror"],
    },
    {
        "name": "coup",
        "also": ["coup d'etat"],
        "literal": ["انقلاب", "انقلاب عسكري", "coup", "putsch"],
        # a vehicle overturning
        "not": [
            "انقلاب سيارة",
            "انقلاب حافلة",
            "انقلاب شاحنة",
            "انقلاب مركبة",
            "انقلاب قارب",
            "coupes",
            # a success
            "diplomatic coup",
            "major coup",
            "publicity coup",
            "coup de grace",
        ],
    },
    {
        "name": "election",
        "also": ["elections", "vote"],
        "literal": ["انتخابات", "انتخاب", "اقتراع", "election"],
        "not": ["انتخاب أفضل لاعب", "انتخاب ملكة جمال"],
    },
    {
        "name": "protest",
        "also": ["protests", "demonstration"],
        "literal": [
            "احتجاج",
            "احتجاجات",
            "تظاهرة",
            "تظاهرات",
            "مظاهرة",
            "مظاهرات",
            "متظاهر",
            "محتج",
            "اعتصام",
            "protest",
            "protesters",
            "protester",
            "demonstration",
            "demonstrators",
            "protested",
        ],
    },
    {
        "name": "negotiations",
        "also": ["talks"],
        "literal": [
            "مفاوضات",
            "محادثات",
            "مباحثات",
            "تفاوض",
            "مفاوض",
            "negotiations",
            "talks",
            "negotiation",
            "negotiator",
        ],
    },
    {
        "name": "hostages",
        "also": ["hostage"],
        "literal": [
            "رهينة",
            "رهائن",
            "محتجزين",
            "مختطفين",
            "مختطفون",
            "مخطوفين",
            "مخطوفون",
            "hostage",
        ],
    },
    {
        "name": "refugees",
        "also": ["refugee", "displaced"],
        "literal": ["لاجئ", "لاجئين", "لاجئون", "نازح", "نازحين", "نازحون", "refugee", "displaced"],
    },
    {
        "name": "invasion",
        "literal": [
            "غزو",
            "غزا",
            "غزت",
            "اجتياح",
            "اجتاح",
            "اجتاحت",
            "invasion",
            "invaded",
            "invade",
        ],
        "not": [
            # weather, fire and locusts «sweep» a region
            "اجتاحت السيول",
            "اجتاحت الفيضانات",
            "اجتاح الفيضان",
            "اجتاحت العاصفة",
            "اجتاح الإعصار",
            "اجتاحت الأمطار",
            "اجتاحت موجة",
            "اجتاحت النيران",
            "اجتاحت الحرائق",
            "اجتاح الحريق",
            "اجتاح الجراد",
            "اجتياح الجراد",
            "غزو الجراد",
            "غزو الفضاء",
            "غزو ثقافي",
            "غزو فكري",
            "غزو الأسواق",
            "pitch invasion",
            "invasion of privacy",
        ],
    },
    {
        "name": "arrest",
        "also": ["arrests", "detained"],
        "literal": [
            "اعتقال",
            "اعتقالات",
            "اعتقل",
            "اعتقلت",
            "اعتقلوا",
            "توقيف",
            "القبض على",
            "احتجاز",
            "احتجز",
            "احتجزت",
            "معتقلين",
            "معتقلون",
            "arrest",
            "arrested",
            "detained",
            "detention",
        ],
        "not": ["cardiac arrest"],
    },
    {
        "name": "military exercise",
        "also": ["drills", "exercises", "manoeuvres"],
        "literal": [
            "مناورات",
            "مناورة",
            "تدريبات عسكرية",
            "تدريب عسكري",
            "military exercise",
            "drills",
            "war games",
            "manoeuvres",
            "maneuvers",
            "تدريبات مشتركة",
            "joint exercise",
            "naval exercise",
            "live-fire exercise",
        ],
        "not": ["مناورة سياسية", "مناورات سياسية"],
    },
    {
        "name": "treaty",
        "also": ["agreement", "pact"],
        "literal": [
            "معاهدة",
            "معاهدات",
            "اتفاقية",
            "اتفاقيات",
            "اتفاق",
            "treaty",
            "pact",
            "accord",
            "peace agreement",
            "peace deal",
        ],
    },
    {
        "name": "alliance",
        "literal": ["تحالف", "تحالفات", "حلف", "أحلاف", "alliance"],
        "not": ["حلف اليمين"],  # swore the oath
    },
]

_PAREN = re.compile(r"\s*\(([^)]*)\)")


def demonym(name: str) -> str | None:
    """The nisba of a one-word country name: روسيا → روسي, كندا → كندي, السعودية → سعودي."""
    if " " in name or "-" in name:
        return None
    base = name[2:] if name.startswith("ال") else name
    if len(base) < 3:
        return None
    if base.endswith("يا"):
        return base[:-1]
    if base.endswith("ا"):
        return base[:-1] + "ي"
    if base.endswith("ية"):
        return base[:-1]
    if base.endswith("ة"):
        return base[:-1] + "ي"
    if base.endswith("ي"):
        return None
    return base + "ي"


def english_variants(name: str) -> list[str]:
    """The other ways wire copy writes a CLDR English name: "Trinidad and Tobago" for
    "Trinidad & Tobago", "Saint Lucia" for "St. Lucia", "Sao Tome" for "São Tomé"."""
    if not re.match("[A-Za-zÀ-ÿ]", name):
        return []
    out = {name.replace(" & ", " and ")}
    out |= {v.replace("St. ", "Saint ") for v in out}
    plain = {
        "".join(c for c in unicodedata.normalize("NFKD", v) if not unicodedata.combining(c))
        for v in out
    }
    out |= {v.replace("’", "'") for v in plain}
    out.discard(name)
    out.discard("Reunion")  # a family reunion is not Réunion
    return sorted(out)


def country(code: str, ar: str, en: str) -> dict[str, Any]:
    """One country's concept: CLDR names, derived demonyms and the hand-written tables."""
    names = [n.strip() for n in _PAREN.sub(lambda m: " | " + m.group(1), ar).split("|")]
    names = [n for n in names if n and " - " not in n and "منطقة" not in n]
    also, extra, foreign_extra, exclude = EXTRA.get(code, ([], [], [], []))
    if code in AMBIGUOUS:  # CLDR writes عُمان with a damma: compare without harakat
        names = [n for n in names if re.sub("[\u064b-\u0652]", "", n) != AMBIGUOUS[code]]
    literal: list[str] = []
    foreign: list[str] = []
    for n in names:
        if code in SPELLED_OUT:
            literal += [v for v in dict.fromkeys((n, n.replace("غ", "ج"))) if v not in COMMON_WORDS]
        elif code not in NATIVE and re.search("[غجقگ]", n):
            foreign.append(n)
        else:
            literal.append(n)
        d = demonym(n)
        if (
            d
            and code not in AMBIGUOUS
            and not any(" " not in x and x.endswith(d) for x in literal[:-1])
        ):
            literal.append(d)
            if code not in NATIVE and "غ" in d and d.replace("غ", "ج") not in COMMON_WORDS:
                literal.append(d.replace("غ", "ج"))  # أوغندي / أوجندي (Egyptian spelling)
    wire_literal, wire_foreign, wire_exclude = WIRE.get(code, ([], [], []))
    # The English lookup names are aliases too ("Nigerien", "Democratic Republic of ..."),
    # but "Macedonia" is also a Greek province and "US" is spelled by CASED_WORDS.
    english = [a for a in also if " - " not in a and a not in ("US", "Macedonia")]
    literal += [*extra, *wire_literal, *english, *EN_DEMONYMS.get(code, []), en]
    literal += [v for a in literal for v in english_variants(a)]
    foreign += foreign_extra + wire_foreign
    # «الديموقراطية» is a common spelling of «الديمقراطية»
    literal += [a.replace("ديمقراط", "ديموقراط") for a in literal if "ديمقراط" in a]
    foreign += [a.replace("ديمقراط", "ديموقراط") for a in foreign if "ديمقراط" in a]
    out: dict[str, Any] = {"name": en, "kind": "country"}
    also = [a for a in also if a != en]
    if also:
        out["also"] = also
    out["literal"] = list(dict.fromkeys(literal))
    if foreign:
        out["foreign"] = list(dict.fromkeys(foreign))
    if exclude or wire_exclude:
        out["not"] = [*exclude, *wire_exclude]
    return out


def build() -> list[dict[str, Any]]:
    ar = Locale("ar").territories
    en = Locale("en").territories
    names = {
        "TR": "Turkey",
        "CZ": "Czechia",
        "PS": "Palestine",
        "HK": "Hong Kong",
        "MO": "Macao",
        "MM": "Myanmar",
        "CD": "DR Congo",
        "CG": "Republic of the Congo",
        "BA": "Bosnia and Herzegovina",
    }
    concepts = []
    for code in sorted(ar):
        if not code.isalpha() or code in NOT_COUNTRIES or code not in en:
            continue
        concepts.append(country(code, ar[code], names.get(code, en[code])))
    for item in OTHER:
        concepts.append(item)
    for item in TOPICS:
        concepts.append({"kind": "topic", **item})
    return concepts


def render() -> str:
    """The text of concepts.yaml."""
    header = (
        "# Generated by pipelines/data/build_concepts.py from CLDR (Babel) and the tables in\n"
        "# that script. Edit the script, not this file. Format: pipelines/lexicon.py.\n"
    )
    body = yaml.safe_dump({"concepts": build()}, allow_unicode=True, sort_keys=False, width=100)
    return header + body


def main() -> None:
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
