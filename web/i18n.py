"""Every interface string in Dutch (the default) and English, looked up by key: one mechanism for
templates (`t("chat.title")`) and Python code alike."""

from __future__ import annotations

import logging
from collections.abc import Callable

from web.overview_messages import OVERVIEW_MESSAGES

logger = logging.getLogger(__name__)
LANGUAGES = ("nl", "en")

# key: (Dutch, English). Placeholders use str.format names.
MESSAGES: dict[str, tuple[str, str]] = {
    "nav.skip": ("Naar de inhoud", "Skip to content"),
    "nav.label": ("Hoofdmenu", "Main menu"),
    "nav.chat": ("Vragen", "Ask"),
    "nav.documents": ("Documenten", "Documents"),
    "nav.audit": ("Auditlog", "Audit log"),
    "nav.users": ("Gebruikers", "Users"),
    "nav.collections": ("Collecties", "Collections"),
    "collections.title": ("Collecties", "Collections"),
    "collections.intro": ("Elk document staat in één collectie. Algemeen is open voor iedere medewerker; een andere collectie"
                          " lezen alleen de groepen die haar mogen lezen. Een wijziging geldt meteen, voor elke zoekvraag.",
                          "Every document is in one collection. Algemeen is open to every employee; any other collection is"
                          " read only by the groups granted it. A change applies at once, to every search."),
    "collections.name": ("Naam", "Name"),
    "collections.name_hint": ("Kleine letters, cijfers, - en _, bijvoorbeeld hr of jeugdzorg.",
                              "Lower-case letters, digits, - and _, for example hr or jeugdzorg."),
    "collections.shown_as": ("Getoond als", "Shown as"),
    "collections.readers": ("Wie mag lezen", "Who may read"),
    "collections.nobody": ("nog geen groep", "no group yet"),
    "collections.group": ("Groep", "Group"),
    "collections.grant": ("Toegang geven", "Grant"),
    "collections.revoke": ("Intrekken", "Revoke"),
    "collections.add": ("Collectie toevoegen", "Add a collection"),
    "collections.add_button": ("Toevoegen", "Add"),
    "collections.added": ("Collectie {name} toegevoegd; nog geen groep mag haar lezen.",
                          "Collection {name} added; no group may read it yet."),
    "collections.granted": ("Groep {group} mag collectie {name} lezen.", "Group {group} may read collection {name}."),
    "collections.revoked": ("Groep {group} mag collectie {name} niet meer lezen.",
                            "Group {group} may no longer read collection {name}."),
    "nav.logout": ("Uitloggen", "Log out"),
    "nav.other_language": ("English", "Nederlands"),
    "role.medewerker": ("medewerker", "employee"),
    "role.informatiebeheerder": ("informatiebeheerder", "information manager"),
    "role.auditor": ("auditor", "auditor"),
    "role.beheerder": ("beheerder", "administrator"),
    "login.title": ("Inloggen bij Baken", "Log in to Baken"),
    "login.name": ("Gebruikersnaam", "User name"),
    "login.password": ("Wachtwoord", "Password"),
    "login.submit": ("Inloggen", "Log in"),
    "login.failed": ("Gebruikersnaam of wachtwoord klopt niet.", "User name or password is wrong."),
    "login.blocked": ("Te veel mislukte pogingen. Probeer het over {wait} opnieuw.",
                      "Too many failed attempts. Try again in {wait}."),
    "time.second": ("1 seconde", "1 second"),
    "time.seconds": ("{n} seconden", "{n} seconds"),
    "time.minutes": ("{n} minuten", "{n} minutes"),
    "login.expired": ("Uw sessie is verlopen. Log opnieuw in.", "Your session has expired. Please log in again."),
    "login.sso": ("Inloggen met {organisation}", "Log in with {organisation}"),
    "login.local": ("Of met een lokaal account", "Or with a local account"),
    "sso.state": ("Deze inlogpoging is verlopen, al gebruikt of in een andere browser begonnen. Log opnieuw in.",
                  "This login attempt has expired, was already used or began in another browser. Please log in "
                  "again."),
    "sso.denied": ("De inlogdienst van uw organisatie heeft het inloggen niet toegestaan.",
                   "Your organisation's login service did not allow the login."),
    "sso.refused": ("Het antwoord van de inlogdienst kon niet worden gecontroleerd. Log opnieuw in; blijft dit "
                    "gebeuren, neem dan contact op met de beheerder.",
                    "The login service's answer could not be verified. Please log in again; if this keeps "
                    "happening, contact the administrator."),
    "sso.no_role": ("U bent ingelogd bij uw organisatie, maar u heeft geen rol in Baken. Vraag de beheerder om "
                    "toegang.", "You are logged in at your organisation, but you have no role in Baken. Ask the "
                    "administrator for access."),
    "sso.disabled_by_provider": ("Uw account is door uw organisatie uitgeschakeld voor Baken.",
                                 "Your organisation has disabled your account for Baken."),
    "sso.separation_of_duties": ("Uw organisatie geeft u zowel de rol auditor als beheerder; die gaan niet samen "
                                 "(functiescheiding). Vraag de beheerder om één van beide.",
                                 "Your organisation gives you both the auditor and the administrator role, which "
                                 "cannot be combined (separation of duties). Ask the administrator for one."),
    "sso.disabled_locally": ("Uw account is in Baken uitgeschakeld. Neem contact op met de beheerder.",
                             "Your account has been disabled in Baken. Contact the administrator."),
    "error.title": ("Er ging iets mis", "Something went wrong"),
    "error.forbidden": ("Geen toegang", "No access"),
    "error.forbidden_text": ("Uw rol geeft geen toegang tot deze pagina.", "Your role does not give access to this page."),
    "error.not_found": ("Niet gevonden", "Not found"),
    "error.not_found_text": ("Deze pagina of dit item bestaat niet (meer).", "This page or item does not exist (any more)."),
    "error.bad_request": ("Ongeldig verzoek", "Bad request"),
    "error.malformed_text": (("Dit verzoek klopt niet: een onderdeel ervan heeft een ongeldige waarde. Ga terug "
                              "en probeer het opnieuw."),
                             "This request is malformed: part of it has an invalid value. Go back and try again."),
    "error.number_too_large_text": ("Dit verzoek klopt niet: een getal erin is te groot.",
                                    "This request is malformed: a number in it is too large."),
    "error.method_text": ("Deze pagina kan zo niet worden opgevraagd.", "This page cannot be requested this way."),
    "error.body_too_large_text": ("Dit verzoek is te groot.", "This request is too large."),
    "error.unavailable": ("Tijdelijk niet beschikbaar", "Temporarily unavailable"),
    "error.unavailable_text": ("Een onderdeel van Baken werkt nu niet. Probeer het later opnieuw.",
                               "Part of Baken is not working right now. Try again later."),
    "error.home": ("Naar de startpagina", "To the start page"),
    "error.question_refused": ("Deze vraag kan niet worden beantwoord (leeg of te lang).",
                               "This question cannot be answered (empty or too long)."),
    "error.question_too_long": ("Uw vraag is te lang: hoogstens {n} tekens. Maak de vraag korter.",
                                "Your question is too long: at most {n} characters. Please shorten it."),
    "error.too_many_pending": (("U heeft al {n} vragen in behandeling. Wacht tot een antwoord klaar is en stel "
                                "dan uw volgende vraag."),
                               ("You already have {n} questions waiting for an answer. Wait until one is answered, "
                                "then ask your next question.")),
    "error.too_many_streams": (("Er staan te veel antwoordvensters tegelijk open. Sluit een ander tabblad en "
                                "herlaad deze pagina."),
                               ("Too many answer windows are open at once. Close another tab and reload this "
                                "page.")),
    "error.too_many": ("Te veel verzoeken", "Too many requests"),
    "error.turn_failed": ("Het antwoord is mislukt. Probeer het opnieuw.", "The answer failed. Please try again."),
    "chat.title": ("Stel een vraag", "Ask a question"),
    "chat.history": ("Eerdere gesprekken", "Earlier conversations"),
    "chat.new": ("Nieuw gesprek", "New conversation"),
    "chat.delete": ("Gesprek verwijderen", "Delete conversation"),
    "chat.delete_text": (("Het gesprek verdwijnt uit uw geschiedenis. Het auditlogboek bewaart een versie zonder "
                          "persoonsgegevens, zoals voor elk gesprek."),
                         ("The conversation is removed from your history. The audit log keeps a version without "
                          "personal data, as for every conversation.")),
    "chat.delete_confirm": ("Ja, verwijder dit gesprek", "Yes, delete this conversation"),
    "chat.no_history": ("Nog geen gesprekken.", "No conversations yet."),
    "chat.ai_notice": (("Antwoorden worden gemaakt door AI en kunnen fouten bevatten. Controleer ze altijd in de "
                       "genoemde bronnen voordat u ze gebruikt."),
                       ("Answers are generated by AI and may contain mistakes. Always check them against the cited "
                       "sources before you use them.")),
    "chat.ai_label": ("AI-antwoord", "AI answer"),
    "chat.question": ("Uw vraag", "Your question"),
    "chat.question_hint": ("Enter verstuurt, Shift+Enter begint een nieuwe regel.",
                           "Enter sends, Shift+Enter starts a new line."),
    "chat.ask": ("Vraag stellen", "Ask"),
    "chat.you": ("U vroeg", "You asked"),
    "chat.waiting": ("Even geduld…", "One moment…"),
    "chat.queue": ("Het taalmodel is bezig. U bent nummer {n} in de rij.",
                   "The language model is busy. You are number {n} in the queue."),
    "chat.writing": ("Baken schrijft een antwoord…", "Baken is writing an answer…"),
    "chat.sources": ("Bronnen", "Sources"),
    "chat.evidence": ("Uit de documenten", "From the documents"),
    "chat.checking": ("Baken schrijft een antwoord en controleert elke zin aan de bronnen…",
                      "Baken is writing an answer and checking every sentence against the sources…"),
    "chat.unsupported": ("niet onderbouwd", "not supported"),
    "chat.unsupported_sr": ("Niet onderbouwd door de documenten:", "Not supported by the documents:"),
    "chat.generated": ("Antwoord van het taalmodel, gecontroleerd aan de bronnen",
                       "The language model's answer, checked against the sources"),
    "chat.cited": ("geciteerd", "cited"),
    "chat.removed": (("Een bron van dit antwoord is inmiddels verwijderd: de tekst eruit (citaten en de zinnen "
                      "die erop steunden) wordt niet meer getoond."),
                     ("A source of this answer has since been deleted: its text (quotes and the sentences it "
                      "supported) is no longer shown.")),
    "chat.source_link": ("bron {n}", "source {n}"),
    "outcome.error": ("Het antwoord is mislukt. Probeer het opnieuw.", "The answer failed. Please try again."),
    "outcome.refused": ("Deze vraag kan niet worden beantwoord (leeg of te lang).",
                        "This question cannot be answered (empty or too long)."),
    "outcome.pending": ("Het antwoord is niet afgemaakt.", "The answer was not finished."),
    "feedback.legend": ("Was dit antwoord nuttig?", "Was this answer useful?"),
    "feedback.useful": ("Nuttig", "Useful"),
    "feedback.not_useful": ("Niet nuttig", "Not useful"),
    "feedback.comment": ("Toelichting (optioneel)", "Comment (optional)"),
    "feedback.send": ("Versturen", "Send"),
    "feedback.thanks": ("Bedankt voor uw feedback.", "Thank you for your feedback."),
    "source.title": ("Bron", "Source"),
    "source.document": ("Document", "Document"),
    "source.page": ("pagina", "page"),
    "source.heading": ("Kop", "Heading"),
    "source.score": ("Overeenkomst", "Similarity"),
    "source.download": ("Origineel document downloaden", "Download the original document"),
    "source.gone": ("Dit document is inmiddels verwijderd.", "This document has since been removed."),
    "source.deleted": ("Dit document is verwijderd. De tekst ervan wordt niet meer getoond.",
                       "This document has been deleted. Its text is no longer shown."),
    "source.deleted_short": ("verwijderd", "deleted"),
    "source.withheld": ("Dit document staat nu in een collectie die u niet mag lezen. De tekst ervan wordt niet meer getoond.",
                        "This document is now in a collection you may not read. Its text is no longer shown."),
    "source.withheld_short": ("afgeschermd", "withheld"),
    "source.withheld_title": ("Afgeschermd document", "Withheld document"),
    "source.back": ("Terug naar het gesprek", "Back to the conversation"),
    "docs.title": ("Documenten", "Documents"),
    "docs.collection": ("Collectie", "Collection"),
    "docs.open_to_all": ("open voor iedere medewerker", "open to every employee"),
    "docs.collection_hint": ("Wie de documenten kan vinden: alleen de groepen die deze collectie mogen lezen.",
                              "Who can find the documents: only the groups that may read this collection."),
    "docs.move": ("Verplaatsen", "Move"),
    "docs.move_to": ("Collectie van {name}", "Collection of {name}"),
    "docs.collection_refused": ("U mag die collectie niet lezen, dus ook geen documenten daarin plaatsen.",
                                 "You may not read that collection, so you cannot put documents in it either."),
    "docs.upload": ("Documenten toevoegen", "Add documents"),
    "docs.files": ("Bestanden (PDF, DOCX, HTML, Markdown, tekst), ook ODT, ODS, ODP, XLSX, PPTX, CSV, EML, MSG",
                   "Files (PDF, DOCX, HTML, Markdown, text), also ODT, ODS, ODP, XLSX, PPTX, CSV, EML, MSG"),
    "docs.files_hint": ("U kunt meerdere bestanden kiezen; elk bestand is hoogstens {mb} MB.",
                        "You can choose several files; each file is at most {mb} MB."),
    "docs.upload_button": ("Uploaden", "Upload"),
    "docs.upload_sent": ("ontvangen, wordt geïndexeerd", "received, being indexed"),
    "docs.upload_failed": ("uploaden mislukt", "upload failed"),
    "docs.too_large": ("te groot: hoogstens {mb} MB", "too large: at most {mb} MB"),
    "docs.empty_upload": ("leeg bestand", "empty file"),
    "docs.queued": ("ontvangen, in de wachtrij voor indexeren", "received, queued for indexing"),
    "docs.no_files": ("Kies eerst een of meer bestanden.", "Choose one or more files first."),
    "docs.too_much": ("Samen te groot: hoogstens {mb} MB in één keer. Upload de bestanden in delen.",
                      "Too large together: at most {mb} MB at a time. Upload the files in parts."),
    "docs.refresh": ("Status vernieuwen", "Refresh the status"),
    "docs.jobs": ("Indexeren", "Indexing"),
    "docs.no_jobs": ("Er wordt nu niets geïndexeerd.", "Nothing is being indexed."),
    "docs.list": ("Geïndexeerde documenten", "Indexed documents"),
    "docs.search": ("Zoeken in documenten", "Search documents"),
    "docs.search_button": ("Zoeken", "Search"),
    "docs.name": ("Bestand", "File"),
    "docs.status": ("Status", "Status"),
    "docs.doc_title": ("Titel", "Title"),
    "docs.kind": ("Soort", "Type"),
    "docs.chunks": ("Fragmenten", "Chunks"),
    "docs.added": ("Toegevoegd (UTC)", "Added (UTC)"),
    "docs.actions": ("Acties", "Actions"),
    "docs.download": ("Downloaden", "Download"),
    "docs.reindex": ("Opnieuw indexeren", "Re-index"),
    "docs.delete": ("Verwijderen", "Delete"),
    "docs.cancel": ("Annuleren, terug naar de documenten", "Cancel, back to the documents"),
    "docs.confirm_delete": ("{name} verwijderen uit de index?", "Remove {name} from the index?"),
    "docs.none": ("Geen documenten gevonden.", "No documents found."),
    "docs.count": ("{n} documenten", "{n} documents"),
    "docs.count_header": ("Documenten", "Documents"),
    "job.queued": ("in de wachtrij", "queued"),
    "job.indexing": ("bezig met indexeren", "indexing"),
    "job.indexing_n": ("indexeren: {done} van {total} fragmenten", "indexing: {done} of {total} chunks"),
    "job.done_new": ("klaar: toegevoegd", "done: added"),
    "job.done_replaced": ("klaar: vorige versie vervangen", "done: replaced the previous version"),
    "job.done_unchanged": ("klaar: was al geïndexeerd", "done: already indexed"),
    "job.done_None": ("klaar", "done"),
    "job.failed": ("mislukt", "failed"),
    "job.interrupted": ("onderbroken: de server stopte tijdens het indexeren; upload het bestand opnieuw",
                        "interrupted: the server stopped while indexing; upload the file again"),
    "audit.title": ("Auditlog", "Audit log"),
    "audit.unavailable": ("Het auditlog is in deze installatie niet ingeschakeld.",
                          "The audit log is not enabled in this installation."),
    "audit.chain": ("Integriteit van de keten", "Chain integrity"),
    "audit.verify": ("Keten nu controleren", "Verify the chain now"),
    "audit.intact": ("De keten is intact: {records} records, {checkpoints} ondertekende controlepunten.",
                     "The chain is intact: {records} records, {checkpoints} signed checkpoints."),
    "audit.broken": ("De keten is NIET intact vanaf record {seq}.", "The chain is NOT intact from record {seq}."),
    "audit.filter": ("Filteren", "Filter"),
    "audit.since": ("Vanaf (datum)", "From (date)"),
    "audit.until": ("Tot (datum)", "Until (date)"),
    "audit.actor": ("Pseudoniem gebruiker", "User pseudonym"),
    "audit.document": ("Document (id of hash)", "Document (id or hash)"),
    "audit.action": ("Handeling", "Action"),
    "audit.outcome": ("Uitkomst", "Outcome"),
    "audit.redaction_type": ("Soort verwijderd persoonsgegeven", "Redacted data type"),
    "audit.any": ("alle", "any"),
    "audit.apply": ("Toepassen", "Apply"),
    "audit.reset": ("Filters wissen", "Clear filters"),
    "audit.export": ("Exporteren (met deze filters)", "Export (with these filters)"),
    "audit.records": ("Records", "Records"),
    "audit.time": ("Tijd (UTC)", "Time (UTC)"),
    "audit.role": ("Rol", "Role"),
    "audit.only_actor": ("alleen deze gebruiker tonen", "show only this user"),
    "audit.open": ("openen", "open"),
    "audit.none": ("Geen records gevonden.", "No records found."),
    "audit.pages": ("Pagina's", "Pages"),
    "audit.newer": ("Nieuwere", "Newer"),
    "audit.older": ("Oudere", "Older"),
    "audit.record": ("Record", "Record"),
    "audit.back": ("Terug naar het auditlog", "Back to the audit log"),
    "audit.conversation": ("Gesprek", "Conversation"),
    "audit.content": ("Inhoud (na verwijderen van persoonsgegevens)", "Content (after removing personal data)"),
    "audit.sources": ("Bronnen", "Sources"),
    "audit.no_content": ("De inhoud van dit record is verwijderd (bewaartermijn).",
                         "The content of this record has been purged (retention)."),
    "audit.redactions": ("Verwijderde persoonsgegevens (manifest)", "Redacted personal data (manifest)"),
    "audit.field_question": ("Vraag", "Question"),
    "audit.field_answer": ("Antwoord", "Answer"),
    "audit.field_comment": ("Toelichting", "Comment"),
    "audit.field_reason": ("Reden", "Reason"),
    "audit.raw": ("Volledig record", "Full record"),
    "audit.event_id": ("Event-id", "Event id"),
    "audit.paired_turn": ("Uitkomst (conversation.turn)", "Outcome (conversation.turn)"),
    "audit.paired_question": ("Vraag vooraf (conversation.question)",
                              "Question beforehand (conversation.question)"),
    "audit.turn_missing": (("Geen record met deze event-id: het antwoord wordt nog gemaakt, of het is "
                            "gemaakt en mogelijk getoond zonder dat de uitkomst is vastgelegd."),
                           ("No record with this event id: the answer is still being made, or it was "
                            "made and possibly shown without its outcome being recorded.")),
    "audit.question_note": (("Dit record is geschreven voordat het taalmodel de vraag kreeg en voordat de "
                             "gebruiker iets zag. De uitkomst staat in het conversation.turn-record met "
                             "dezelfde event-id."),
                            ("This record was written before the language model got the question and before "
                             "the user saw anything. The outcome is in the conversation.turn record with the "
                             "same event id.")),
    "users.title": ("Gebruikers", "Users"),
    "users.name": ("Naam", "Name"),
    "users.role": ("Rol", "Role"),
    "users.status": ("Status", "Status"),
    "users.active": ("actief", "active"),
    "users.inactive": ("uitgeschakeld", "disabled"),
    "users.activate": ("Inschakelen", "Enable"),
    "users.deactivate": ("Uitschakelen", "Disable"),
    "users.add": ("Gebruiker toevoegen", "Add a user"),
    "users.add_button": ("Toevoegen", "Add"),
    "users.password": ("Wachtwoord", "Password"),
    "users.password_hint": ("Minstens 12 tekens.", "At least 12 characters."),
    "users.added": ("Gebruiker {name} is toegevoegd.", "User {name} was added."),
    "users.roles": ("Rollen", "Roles"),
    "users.groups": ("Groepen", "Groups"),
    "users.groups_hint": ("Gescheiden door komma's, bijvoorbeeld hr, jeugdzorg.",
                          "Separated by commas, for example hr, jeugdzorg."),
    "users.origin": ("Inloggen via", "Logs in with"),
    "users.origin_local": ("wachtwoord", "password"),
    "users.origin_oidc": ("organisatie (SSO)", "organisation (SSO)"),
    "users.edit": ("Rollen en groepen wijzigen", "Change roles and groups"),
    "users.edit_title": ("Rollen en groepen van {name}", "Roles and groups of {name}"),
    "users.save": ("Opslaan", "Save"),
    "users.saved": ("De rollen en groepen van {name} zijn opgeslagen.", "The roles and groups of {name} were saved."),
    "users.back": ("Terug naar de gebruikers", "Back to the users"),
    "users.separation": ("De rollen auditor en beheerder gaan niet samen (functiescheiding): wie accounts beheert, "
                         "controleert niet ook zijn eigen handelingen.",
                         "The auditor and administrator roles cannot be combined (separation of duties): who "
                         "administers accounts does not also audit their own actions."),
    "users.no_role": ("Kies minstens één rol.", "Choose at least one role."),
    "users.sso_managed": ("De rollen en groepen van dit account komen bij elke login van de inlogdienst van uw "
                          "organisatie; wijzig ze daar.",
                          "The roles and groups of this account come from your organisation's login service at "
                          "every login; change them there."),
    "users.own_admin": ("U kunt uw eigen rol beheerder niet afnemen.", "You cannot remove your own administrator role."),
}
MESSAGES.update(OVERVIEW_MESSAGES)

Translate = Callable[..., str]


def pick_language(cookie: str | None, accept_language: str | None, default: str) -> str:
    """The interface language: the user's choice (cookie), else the default (Dutch)."""
    if cookie in LANGUAGES:
        return cookie  # type: ignore[return-value]
    return default if default in LANGUAGES else "nl"


def translator(language: str) -> Translate:
    """``t(key, **values)`` in ``language``; an unknown key shows itself (and is logged) rather than failing."""
    column = LANGUAGES.index(language) if language in LANGUAGES else 0

    def t(key: str, **values: object) -> str:
        entry = MESSAGES.get(key)
        if entry is None:
            logger.warning("missing translation %s", key)
            return key
        text = entry[column]
        return text.format(**values) if values else text

    return t
