"""The independent redaction corpus's message templates, by language and kind, written for it alone.

``{slot}`` names what ``Conversation.fill`` (``bench/_redaction_corpus_independent.py``) puts there;
``SLOT_TYPES`` says which slots are labelled and with which of the engine's types (the rest are hard
negatives or unlabelled context).
"""

from __future__ import annotations

# ------------------------------------------------------------------------------------------------
# Templates, by language: {slot} is filled by Conversation.fill; kinds say where the text comes from
# ------------------------------------------------------------------------------------------------

TEMPLATES: dict[str, dict[str, list[str]]] = {
    "en": {
        "chat": [
            "hey it's me again, best number to get me is {phone}",
            "pls call me back {phone} thx",
            "Phone: {phone}",
            "can you text me at {phone} when order {order} ships?",
            "new mobile is {phone}, the old one is gone",
            "landline {phone}, mobile {phone}",
            "I tried ringing you from {phone} but nobody picked up. I live at {address}",
            "my email's {email}, ticket {ticket}",
            "contact details: {email} / {phone}",
            "payment went through on card {card} for {amount}",
            "refund it to IBAN {iban} please, invoice {invoice}",
            "the login page says blocked IP {ip}, app {version}",
            "SSN {ssn} for the credit check",
            "reach me on {phone} or drop a line to {email}",
            "whatsapp me: {phone}",
            "my router's public address is {ip} if that helps",
            "the VPN gives me {ip} and the portal still refuses me",
            "please pay the deposit back to {iban}",
            "bank account for the refund: {iban} (same name as the booking)",
            "for the background check my social security number is {ssn}",
            "they blocked {ip} after the third password attempt",
            "if I'm out, my partner {other_name} is on {phone}",
        ],
        "email": [
            "Subject: Re: case {ticket}\n\nHello,\n\nplease update my contact number to {phone}.\n\nKind regards,\n"
            "{subject_name}\nMob: {phone}",
            "Hi team,\n\nInvoice {invoice} ({amount}) was charged twice to my card {card}.\n\nThanks,\n{other_name}\n{address}",
            "Subject: new bank details\n\nFrom now on please use IBAN {iban}.\nFor questions: tel. {phone}\n\n"
            "Best,\n{subject_name}",
            "Dear Sir or Madam,\n\nmy order {order} of {date} has not arrived (tracking {tracking}). You can call me "
            "on {phone} between {time} and {time}.\n\nYours faithfully,\n{other_name}",
            "Hello,\nmy old address {email} no longer works, write to {email} instead.\n--\n{subject_name}\n"
            "{address}\nTel {phone}",
        ],
        "speech": [
            "caller: yeah my number is {phone_spoken}",
            "caller: it's {phone_spoken}, that's my mobile",
            "caller: the card number is {card_spoken}",
            "caller: my social is {ssn_spoken}",
            "caller: email is {email_spoken}",
            "caller: um you can reach me at {phone_spoken} after {time}",
            "caller: call me back on {phone_spoken} please",
            "caller: the long number on the front is {card_spoken} and it expires next year",
        ],
        "readback": [
            "agent: let me read that back, {phone_readback}, is that correct? caller: yes",
            "agent: so that's {email_spoken}? caller: correct",
            "agent: I have {phone} on file, is that still the best number?",
            "agent: and the card, {card_readback}? caller: that's the one",
            "agent: confirming your number {phone_spoken}. caller: yep",
            "agent: the SSN I have is {ssn_readback}, right?",
        ],
        "negative": [
            "order {order} placed on {date} at {time}, total {amount}",
            "tracking says {tracking}, delivery to {postcode}",
            "I paid with the card ending {card_tail} on {date}",
            "ticket {ticket} was opened {date}, still nothing",
            "updated to {version} yesterday and it crashes",
            "{other_name} from billing said invoice {invoice} is {amount}",
            "My address: {address}",
            "caller: my order number is {order_spoken}",
            "agent: your reference is {ticket} and the postcode {postcode}, thank you",
            "the transfer from the account ending {iban_tail} was {amount} on {date}",
            "firmware {version} since {date} {time}",
            "parcel {tracking} left the depot at {time}",
            "the statement shows card {card_masked} and account {iban_masked}",
            "receipt: {card_masked}, {amount}, {date} {time}",
        ],
        "subject": [
            "this is {subject_name}, calling about my bill",
            "account holder: {subject_name}",
            "{subject_name}\n{subject_email}",
            "text me on {subject_phone}",
            "caller: yes it's {subject_name} and my email is {subject_email}",
        ],
    },
    "de": {
        "chat": [
            "Rufen Sie mich bitte unter {phone} zurück",
            "Meine Handynummer lautet {phone}",
            "Tel.: {phone} · E-Mail: {email}",
            "Bitte den Betrag auf {iban} überweisen",
            "Festnetz {phone}, mobil {phone}",
            "Der Login von {ip} wird abgelehnt",
        ],
        "speech": [
            "Anrufer: meine Nummer ist {phone_spoken}",
            "Anrufer: also die Nummer ist {phone_spoken}, danke",
        ],
        "readback": ["Agent: ich wiederhole: {phone_readback}, stimmt das? Anrufer: ja"],
        "negative": [
            "Bestellung {order} vom {date}, Betrag {amount}",
            "Sendungsnummer {tracking}, PLZ {postcode}",
            "Meine Anschrift: {address}",
            "Version {version} seit {date}",
            "Abbuchung vom Konto {iban_masked} am {date}",
        ],
        "subject": ["Hier spricht {subject_name}", "Erreichbar unter {subject_phone}"],
    },
    "fr": {
        "chat": [
            "Vous pouvez me joindre au {phone}",
            "mon portable : {phone}",
            "Tél. {phone} / courriel {email}",
            "merci de rembourser sur {iban}",
            "rappelez-moi au {phone} svp",
            "l'accès depuis {ip} est bloqué",
        ],
        "speech": [
            "appelant : mon numéro c'est le {phone_spoken}",
            "appelant : alors c'est {phone_spoken}",
        ],
        "readback": ["conseiller : je répète, {phone_readback}, c'est bien ça ? appelant : oui"],
        "negative": [
            "Commande {order} du {date}, montant {amount}",
            "Mon adresse : {address}",
            "colis {tracking}, code postal {postcode}",
            "mis à jour en {version} le {date} à {time}",
        ],
        "subject": ["C'est {subject_name} à l'appareil", "joignable au {subject_phone}"],
    },
    "es": {
        "chat": [
            "Mi móvil es el {phone}, llámenme",
            "Puede contactarme en {phone} o en {email}",
            "Teléfono de contacto: {phone}",
            "el reembolso a la cuenta {iban}",
        ],
        "speech": [
            "cliente: mi número es {phone_spoken}",
            "cliente: apunte, {phone_spoken}",
        ],
        "readback": ["agente: le repito, {phone_readback}, ¿correcto? cliente: sí"],
        "negative": [
            "Pedido {order} del {date} por {amount}",
            "Mi dirección es {address}",
            "envío {tracking}, código postal {postcode}",
        ],
        "subject": ["Soy {subject_name}", "mi número: {subject_phone}"],
    },
    "ja": {
        "chat": [
            "電話番号は{phone}です",
            "連絡先：{phone_fullwidth}",  # noqa: RUF001 (the punctuation these languages write)
            "携帯{phone}までお電話ください",
            "メールは{email}にお願いします",
            "カード番号{card}で支払いました",
        ],
        "negative": [
            "注文番号{order}、{date}に発送済み",
            "お届け先の郵便番号は{postcode}です",
            "住所：{address}",  # noqa: RUF001 (the punctuation these languages write)
            "金額{amount}を{date}にお支払い",
        ],
        "subject": ["私は{subject_name}です", "{subject_name}様の電話番号は{subject_phone}"],
    },
    "zh": {
        "chat": [
            "我的手机号是{phone}",
            "请拨打{phone_fullwidth}联系我",
            "邮箱：{email}",  # noqa: RUF001 (the punctuation these languages write)
            "退款请打到{iban}",
        ],
        "negative": [
            "订单号{order}，金额{amount}",  # noqa: RUF001 (the punctuation these languages write)
            "地址：{address}",  # noqa: RUF001 (the punctuation these languages write)
            "快递单号{tracking}，{date}发出",  # noqa: RUF001 (the punctuation these languages write)
        ],
        "subject": ["我是{subject_name}", "{subject_name}的电话{subject_phone}"],
    },
}
LOCALE_LANGUAGE = {"de": "de", "fr": "fr", "es": "es", "ja": "ja", "zh": "zh"}
KIND_WEIGHTS = {"chat": 30, "email": 10, "speech": 18, "readback": 10, "negative": 24, "subject": 8}
SLOT_TYPES = {
    "phone": "PHONE", "phone_spoken": "PHONE", "phone_readback": "PHONE", "phone_fullwidth": "PHONE",
    "email": "EMAIL", "email_spoken": "EMAIL", "card": "CREDIT_CARD", "card_spoken": "CREDIT_CARD",
    "card_readback": "CREDIT_CARD", "iban": "IBAN", "ip": "IP_ADDRESS", "ssn": "US_SSN", "ssn_spoken": "US_SSN",
    "ssn_readback": "US_SSN", "subject_name": "SUBJECT", "subject_email": "SUBJECT", "subject_phone": "SUBJECT",
}
