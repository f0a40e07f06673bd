"""Context words: what the few words around a number say it is.

A run of digits is a phone number, an order number or nothing depending on the words next to it.
These functions read a handful of words before (and, for phones, after) a candidate and answer
with a verdict; they never look further than the clause the number stands in, and they are only
ever called on candidates, so their cost does not grow with the text.

Precedence is by proximity: walking outwards from the number over filler words ("on", "me",
"is"...), the first meaningful word decides. "call me about order 48213377" is an order number
("order" is nearer than "call"); "order or call me on 0161 555 0199" is a phone number.
"""

from __future__ import annotations

import re
from typing import Final, Literal


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _listed(text: str) -> frozenset[str]:
    """Words of a list that has ``# comment`` lines."""
    return frozenset(word for line in text.splitlines() if not line.strip().startswith("#") for word in line.split())


# A number introduced by one of these words is a reference of some kind, not a person's data.
REFERENCE_WORDS: Final = _words(
    """
    order orders ref reference invoice ticket case incident tracking track trace parcel package shipment consignment
    booking confirmation transaction txn receipt serial model part sku item article product batch lot
    voucher coupon promo postcode zip plz pin otp code request job build port pid uid req sr
    member membership policy contract claim loyalty awb waybill postal postcodes cep cp código codigo
    bestellung bestellnummer auftrag auftragsnummer rechnung rechnungsnummer sendung sendungsnummer
    vorgang vorgangsnummer kundennummer vertragsnummer ticketnummer artikel artikelnummer paket lieferung
    lieferschein vertrag mitgliedsnummer postleitzahl
    commande facture colis dossier suivi référence reference réf ref billet envoi contrat
    pedido factura envío envio seguimiento referencia albarán albaran expediente localizador contrato
    bestelling bestelnummer factuur zending pakket referentie ordernummer klantnummer dossiernummer polis lidnummer
    ordine fattura spedizione riferimento pratica polizza
    encomenda fatura rastreio
    """
)
# Words that may stand between the reference word and the number: "order number is #123".
FILLER_WORDS: Final = _words(
    """
    no nr n° nº num number nummer numéro numero número id is ist est es het the your my our de du la le el del
    of for van der des die das says said shows showed
    """
)
_BEFORE_SEPARATORS: Final = frozenset(" \t\u00a0\u3000:.-,()'\"&")
_AFTER_SEPARATORS: Final = frozenset(" \t\u00a0\u3000:.-,()'\"&=")


def words_before(text: str, start: int, count: int = 4) -> list[str]:
    """Up to ``count`` words right before ``start``, nearest first (``#`` counts as a word).

    Stops at anything that is neither a word nor a separator, so a digit in between ends it.
    """
    words: list[str] = []
    index = start
    separators = _BEFORE_SEPARATORS
    # Each character is read once (``char`` is always ``text[index - 1]``): this runs for every candidate.
    while len(words) < count and index > 0:
        char = text[index - 1]
        while char in separators:
            index -= 1
            if index == 0:
                return words
            char = text[index - 1]
        if char == "#":
            words.append("#")
            index -= 1
            continue
        word_end = index
        while char.isalpha() or char in "°º":
            index -= 1
            if index == 0:
                break
            char = text[index - 1]
        if index == word_end:
            break
        words.append(text[index:word_end].lower())
    return words


def words_after(text: str, end: int, count: int = 4) -> list[str]:
    """Up to ``count`` words right after ``end``, nearest first; stops like :func:`words_before`."""
    words: list[str] = []
    index = end
    length = len(text)
    while len(words) < count and index < length:
        while index < length and text[index] in _AFTER_SEPARATORS:
            index += 1
        word_start = index
        while index < length and text[index].isalpha():
            index += 1
        if index == word_start:
            break
        words.append(text[word_start:index].lower())
    return words


def introduced_as_reference(text: str, start: int) -> bool:
    """The number at ``start`` follows "order #", "Ticket-Nr.", "n° de commande"..."""
    return reference_in(words_before(text, start))


def reference_in(words: list[str]) -> bool:
    """:func:`introduced_as_reference` on the (four) words before the number, nearest first."""
    for word in words:
        if word == "#" or word in REFERENCE_WORDS:
            return True
        if word not in FILLER_WORDS:
            return False
    return False


# --------------------------------------------------------------------------------------------
# Phone context
# --------------------------------------------------------------------------------------------

# Words that say the number next to them is a telephone number, in the languages the contact
# centre serves (en, fr, de, es, it, nl, pt). Whole words (after lower-casing), inflections listed.
_PHONE_CUE: Final = _listed(
    """
    # English
    φ phone phones phoned phoning telephone telephones telephoned tel tele ph cell cellphone cellular mobile mobiles
    mob landline fax
    call calls called calling callback recall ring rang ringing rings text texted texting txt sms whatsapp reach reached
    reachable dial dialed dialled contact contactable phonenumber
    # German
    telefon telefonisch telefonnummer handy handynummer mobil mobilnummer mobilfunknummer festnetz
    festnetznummer rufnummer faxnummer anrufen anruf ruf rufe rufen ruft zurückrufen zurueckrufen
    rückruf rueckruf erreichbar erreichen erreicht simsen tel-nr telnr vorwahl
    # French
    téléphone téléphoner téléphonez tél portable fixe appeler appelez appelle appelles appellez rappeler
    rappelez rappelle rappel joindre joignable texto indicatif
    # Spanish
    teléfono telefono tlf tfno telf móvil movil celular cel llamar llámame llamame llámeme llameme llámenme
    llamenme llama llame llamen llamada llamarme fijo contactar contactarme contácteme contacteme contáctame
    contactame localizable localizarme prefijo
    # Italian
    cellulare chiamare chiamami chiamatemi chiamarmi richiamare richiamami richiamatemi chiama chiamata chiami
    richiami
    raggiungibile raggiungermi fisso contattare contattami contattarmi prefisso
    # Dutch
    telefoon telefoonnummer mobiel mobieltje gsm bel bellen belt terugbellen bereikbaar bereiken mobielnummer
    netnummer
    # Portuguese
    telefone telemóvel telemovel ligar ligue liga ligar-me contacto contato whats
    # An agent reading a number back: "let me read that back", "just to confirm"
    read repeat repeating confirm confirming confirmer confirmez bestätigen bestaetigen wiederhole wiederholen
    confirmar confirmo confermare confermo bevestigen herhaal herhalen
    répète répéter repete repeter repito repetir repite ripeto ripetere
    # A caller dictating: "take this down", "apunte", "notez", "notieren Sie", "segna", "noteer", "anote"
    jot apunte apunta apúntelo apuntelo apúntalo apuntalo anote anota anótelo anotelo notez noter notiere notieren
    aufschreiben segna segnati annota annoti noteer noteert noteren opschrijven
    """
)
# Cues that say whose number it is: an agent reading back what the caller gave ("let me read that
# back", "le repito") and a caller dictating to the agent ("apunte", "notez"): the caller's own line.
_READ_BACK_CUES: Final = _words(
    """
    read repeat repeating confirm confirming confirmer confirmez bestätigen bestaetigen wiederhole wiederholen
    confirmar confirmo confermare confermo bevestigen herhaal herhalen
    répète répéter repete repeter repito repetir repite ripeto ripetere
    jot apunte apunta apúntelo apuntelo apúntalo apuntalo anote anota anótelo anotelo notez noter notiere notieren
    aufschreiben segna segnati annota annoti noteer noteert noteren opschrijven
    """
)
# Words that name a number without saying which: a phone number only when they are someone's
# ("my number is", "votre numéro", "Nummer:" as a label), not an "account number".
_NUMBER_WORDS: Final = _words("number numbers no nr num nummer numéro numero número n° nº digits")
_POSSESSIVES: Final = _words(
    """
    my your his her our their the a new best direct personal own other home work office private contact
    mon ma ton ta votre vos son sa le un nouveau meilleur
    mein meine meiner meinen deine ihre ihr seine unsere die eine neue beste besten aktuelle
    mi tu su el nuevo mejor
    il mio tuo suo nuovo migliore
    mijn je uw zijn haar het nieuwe beste
    o meu minha seu sua novo melhor
    """
)
# Words that may stand between a cue and the number: "call me back on", "mein Handy ist",
# "rappelez-moi au", "llámame al", "chiamami al", "bel me op", "ligue-me para".
_PHONE_FILLERS: Final = _words(
    """
    me us him her them back on at to is are was be it s its my our your his their the a an number me please pls
    directly anytime any time today tonight tomorrow morning afternoon evening later now instead or and also via
    using under best here there reachable sure yes yeah ok okay so that thats just let correct right
    file still get from you details info desde vanaf
    noch immer hinterlegt gespeichert toujours encore enregistré vous todavía aún registrado usted
    ancora sempre registrato lei nog steeds geregistreerd u ainda registado registrado você voce
    mich mir uns sie ihnen bitte ist lautet meine mein meiner die der das unter auf an am bin jederzeit gerne oder und
    au à a sur moi nous est c mon ma votre le la l de du au ou et svp merci plutôt
    al en mi es el la por favor su mio me al o y
    il è al mio mi o e sul per
    mij me op naar het is mijn of en
    o meu minha é para pelo no na me ou
    """
)
#: Words that may stand between a number and a phone word after it ("... is my number").
_AFTER_FILLERS: Final = _PHONE_FILLERS | _POSSESSIVES
# First-person words: "call me", "my number", "mein Handy", "rappelez-moi", "llámame" say the number is
# the writer's own, not an office's ("Call 555-0134 for the local branch").
_FIRST_PERSON: Final = _words(
    """
    me my mine i myself moi mon ma mes je mich mir mein meine meiner meinen ich me mi mio mia yo mij mijn ik eu meu minha
    """
)
_FIRST_PERSON_CUES: Final = _words(
    """
    llámame llamame llámeme llameme llamarme localizarme chiamami chiamatemi chiamarmi richiamami richiamatemi
    raggiungermi contattami contattarmi contactarme contácteme contacteme contáctame contactame
    """
)
# Cue words that name the line itself (a label in a signature, a form, a CRM note), as opposed to
# verbs ("call", "ring") that may be about anyone's number.
_PHONE_LABEL: Final = _words(
    """
     φ phone telephone tel ph cell cellphone mobile mob landline fax phonenumber telefon telefonnummer handy
     handynummer mobil mobilnummer festnetz festnetznummer rufnummer téléphone tél portable teléfono telefono
     tlf tfno telf móvil movil celular cellulare telefoon telefoonnummer mobiel mobielnummer gsm telefone
     telemóvel telemovel whatsapp contact contacto contato
    """
)
_BE: Final = _words("is s am m are re was")
# A call verb then "from" ("I tried ringing you from 555 1234", "calling from", "te llamo desde el ...",
# "ik bel vanaf ..."): the line the writer calls from is the writer's own.
_CALL_VERBS: Final = _words(
    """
    call calls called calling ring rang ringing rings phoned phoning dialled dialed texted texting
    llamo llamando llamé chiamo chiamando bel belde bellen appelle appelé rufe angerufen ligo liguei
    """
)
_FROM: Final = _words("from desde vanaf")
# "... is that still the best number?", "... (contact number)": a person's line, whoever's.
_PERSONAL_LINE: Final = _words(
    "best contact direct personal own home private callback meilleur beste besten aktuelle mejor migliore melhor"
)
# "my partner Sr. Benicio Fonseca is on ...": "Sr." is a title before a name there, not a service request.
_REFERENCES_NOT_TITLES: Final = REFERENCE_WORDS - _words("sr")
_PHONE_CODE_WORDS: Final = _words("area country dialling dialing calling city")
_MAX_PHONE_WORDS: Final = 8

PhoneContext = Literal["strong", "phone", "reference", "none"]

# An email address (typed, or with "(at)"/"[at]" and "[dot]") and a list separator, right before a number.
_AFTER_EMAIL: Final = re.compile(
    r"(?<![\w.+\-])[\w.+\-]+(?:[ \t]?@[ \t]?|[ \t]?[(\[{<]at[)\]}>][ \t]?)[\w\-]+"
    r"(?:(?:\.|[ \t]?[(\[{<]dot[)\]}>][ \t]?)[\w\-]+)+[ \t]*[/;,|][ \t]*$"
    # Spoken, as speech-to-text writes it: "jane at example dot com / 8012 3456".
    r"|(?<![\w.+\-])[\w.+\-]+[ \t]at[ \t][\w\-]+(?:[ \t]dot[ \t][\w\-]+)+[ \t]*[/;,|][ \t]*$"
)
_EMAIL_REACH: Final = 120


def _after_list_separator(text: str, start: int) -> bool:
    """What ``_AFTER_EMAIL`` needs at its end: one of "/;,|" and only spaces, tabs (and the newline its
    ``$`` may stand before) up to ``start``. Read first: the pattern itself is a scan of 120 characters."""
    index = start
    floor = max(0, start - _EMAIL_REACH)
    while index > floor and text[index - 1] in " \t\n":
        index -= 1
    return index > floor and text[index - 1] in "/;,|"


def phone_context_before(text: str, start: int) -> PhoneContext:
    """What the words before ``start`` say the number is.

    ``"strong"``: a phone number given as the writer's own ("call me on", "my mobile is") or under
    a phone label ("Phone:", "Tel.", "Handy"); ``"phone"``: a phone word that may be about someone
    else's line ("Call 555-0134 for the branch"); ``"reference"``: an order, ticket, invoice...
    number; ``"none"``: the words say nothing.
    """
    return phone_context_of(text, start, words_before(text, start, _MAX_PHONE_WORDS))


def phone_context_of(text: str, start: int, words: list[str]) -> PhoneContext:
    """:func:`phone_context_before` given ``words_before(text, start, 8)``, for a caller that reads them anyway."""
    if (
        not words
        and _after_list_separator(text, start)
        and (item := _AFTER_EMAIL.search(text, max(0, start - _EMAIL_REACH), start)) is not None
    ):
        # "Contact: jane@example.com; 312 395 5452", "contact details: jane(at)example.net / 8012 3456":
        # the next item of a list of contact details is read with the words before the list.
        words = words_before(text, item.start(), _MAX_PHONE_WORDS)
    if len(words) >= 2 and words[0] == "on" and words[1] in _BE:
        # "I'm on 07700 900123", "my partner is on 730.1234", "she's on 0412 345 678": English for the
        # line a person answers, whoever it is (a person's line is personal data either way); not
        # when the clause names a reference ("the order is on 4811...").
        return "reference" if not _REFERENCES_NOT_TITLES.isdisjoint(words[2:]) else "strong"
    personal = False
    for index, word in enumerate(words):
        further = words[index + 1] if index + 1 < len(words) else None
        personal = personal or word in _FIRST_PERSON
        if word == "#":
            # "Phone #: ..." and "tel #" are phone numbers; any other "#" introduces a reference.
            if further is not None and (further in _PHONE_CUE or further in _NUMBER_WORDS):
                return _verdict(personal, words, index + 1)
            return "reference"
        if word in _PHONE_CUE:
            calls_from = word in _CALL_VERBS and not _FROM.isdisjoint(words[:index])
            strong = personal or calls_from or word in _FIRST_PERSON_CUES or word in _READ_BACK_CUES or word in _PHONE_LABEL
            return _verdict(strong, words, index)
        if word in REFERENCE_WORDS:
            # "area code 202 ...", "country code +44": a phone number's own code, not a reference.
            if word == "code" and further in _PHONE_CODE_WORDS:
                return _verdict(personal, words, index + 1)
            return "reference"
        if word in _NUMBER_WORDS:
            if further is None or further in _POSSESSIVES:
                # "Number: 555 0134", "my number is ...", "the best number is ...", "contact number";
                # "confirming your number ...": an agent reading back the caller's own line.
                read_back = not _READ_BACK_CUES.isdisjoint(words[index + 1 : index + 4])
                return _verdict(personal or read_back or further in _PERSONAL_LINE, words, index)
            if further in _PHONE_CUE:
                return _verdict(personal, words, index + 1)  # "phone number", "Handy Nummer"
            if further in REFERENCE_WORDS:
                return "reference"
            continue
        if word not in _PHONE_FILLERS:
            return "none"
    return "none"


def _verdict(personal: bool, words: list[str], cue_index: int) -> PhoneContext:
    """``"strong"`` when a first-person word came on the way, stands right before the cue, or the cue is a label."""
    before_cue = words[cue_index + 1] if cue_index + 1 < len(words) else None
    return "strong" if personal or before_cue in _FIRST_PERSON else "phone"


def read_back_before(text: str, start: int) -> bool:
    """An agent reading back or a caller dictating right before ``start`` ("let me read that back,",
    "le repito,", "ich wiederhole:", "confirming your number"), with nothing but filler in between.

    Short digit-by-digit runs (a small country's number, five or six digits) count as a phone
    number only there; "confirm your order number ..." or "read me the PIN ..." stays a reference.
    """
    return read_back_in(words_before(text, start, _MAX_PHONE_WORDS))


def read_back_in(words: list[str]) -> bool:
    """:func:`read_back_before` given the (eight) words before the number."""
    for word in words:
        if word in _READ_BACK_CUES:
            return True
        if word in REFERENCE_WORDS or not (word in _PHONE_FILLERS or word in _POSSESSIVES or word in _NUMBER_WORDS):
            return False
    return False


def phone_context_after(text: str, end: int) -> PhoneContext:
    """What the words after ``end`` say: "... is my number" (personal), "(mobile)" (phone), or nothing."""
    words = words_after(text, end, _MAX_PHONE_WORDS)
    previous = None
    personal = False
    for word in words:
        personal = personal or word in _FIRST_PERSON
        if word in _PHONE_CUE:
            return "strong" if personal or word in _PHONE_LABEL else "phone"
        if word in _NUMBER_WORDS:
            if previous in _POSSESSIVES:
                return "strong" if personal or previous in _PERSONAL_LINE else "phone"
            return "none"
        if word in REFERENCE_WORDS or word not in _AFTER_FILLERS:
            return "none"
        previous = word
    return "none"


def reference_before(text: str, start: int, before: PhoneContext | None = None) -> bool:
    """The number at ``start`` is introduced as a reference ("order #", "Ticket-Nr.") and no nearer
    word says it is a phone number ("Phone #: ..."): the one rule written and spoken numbers share.

    ``before``: :func:`phone_context_before` of the same number, when the caller has it already.
    """
    if before is not None:
        return before not in ("strong", "phone") and introduced_as_reference(text, start)
    return introduced_as_reference(text, start) and phone_context_before(text, start) not in ("strong", "phone")


def phone_word(word: str) -> bool:
    """A word (lower-cased) that talks about a telephone or a number: "call", "Handy", "numéro"..."""
    return word in _PHONE_CUE or word in _NUMBER_WORDS


def phone_context(text: str, start: int, end: int) -> PhoneContext:
    """The verdict of the words around ``text[start:end]``; the words before take precedence."""
    before = phone_context_before(text, start)
    if before != "none":
        return before
    return phone_context_after(text, end)
