"""The portal's base form: WTForms' own messages in the page's language.

WTForms and Flask-WTF ship no Indonesian catalogue, so a staff form on an Indonesian page said
"Not a valid date value." in English. Every form of the portal derives from ``PortalForm``,
whose translations come from the portal's own catalogue; the messages WTForms can produce are
listed below so that extraction puts them there.
"""
from flask_babel import get_translations
from flask_wtf import FlaskForm
from markupsafe import escape
from wtforms.widgets import Select


def N_(message: str) -> str:
    """Mark a message for extraction without translating it here."""
    return message


def ngettext(singular: str, plural: str) -> str:
    """Mark a singular/plural pair for extraction (Babel reads ``ngettext`` by default)."""
    return singular


# The messages of the WTForms fields and validators the portal uses, word for word.
WTFORMS_MESSAGES = (
    N_("This field is required."),
    N_("Invalid input."),
    N_("Invalid email address."),
    N_("Invalid URL."),
    N_("Not a valid choice."),
    N_("Not a valid date value."),
    N_("Not a valid datetime value."),
    N_("Not a valid time value."),
    N_("Not a valid integer value."),
    N_("Not a valid decimal value."),
    N_("Not a valid float value."),
    N_("Number must be at least %(min)s."),
    N_("Number must be at most %(max)s."),
    N_("Number must be between %(min)s and %(max)s."),
    N_("Date must be at least %(min)s."),
    N_("Date must be at most %(max)s."),
    N_("Date must be between %(min)s and %(max)s."),
    N_("Field must be between %(min)d and %(max)d characters long."),
    N_("Field must be equal to %(other_name)s."),
    N_("Invalid value, must be one of: %(values)s."),
    N_("Invalid Choice: could not coerce."),
    ngettext("Field must be at least %(min)d character long.",
             "Field must be at least %(min)d characters long."),
    ngettext("Field cannot be longer than %(max)d character.",
             "Field cannot be longer than %(max)d characters."),
)


class _CatalogueTranslations:
    """WTForms' translations interface over the portal's catalogue, without formatting.

    WTForms formats the message itself (``message % {"min": …}``), so the raw translated
    string is returned; Flask-Babel's ``gettext`` would format it a second time.
    """

    def gettext(self, string: str) -> str:
        return get_translations().gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ngettext(singular, plural, n)


class PortalForm(FlaskForm):
    """A Flask-WTF form (CSRF included) whose built-in messages follow the page's language."""

    class Meta:
        def get_translations(self, form):
            return _CatalogueTranslations()


class LongSelect(Select):
    """WTForms' ``Select`` widget for a list of hundreds of choices, with the same HTML.

    WTForms builds each option through ``html_params`` and a Markup format (80 of the 130 ms
    of the feedback form with 1,000 services in its chooser); a plain option (a value, a
    label, perhaps ``selected``) is written here in one f-string, with the same escaping and
    attribute order (``selected`` before ``value``). Any other option goes to WTForms.
    """

    @classmethod
    def render_option(cls, choice, **kwargs):
        value = choice.value
        if kwargs or choice.render_kw or isinstance(value, bool):
            return super().render_option(choice, **kwargs)
        label = escape(choice.label or value)
        selected = "selected " if choice.selected else ""
        return f"<option {selected}value=\"{escape(value)}\">{label}</option>"
