"""The tenant-scoped admin: organiser staff see and change only their own organisers' rows."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import capfirst

from portal.admin_money import MoneyField, money_display
from portal.models import Organiser, OrganiserStaff, TenantModel, Withdrawal
from portal.money import SYMBOLS
from portal.ratelimit import rate_limited


def staff_organiser_ids(request) -> list[int]:
    """The organisers this user works for, read once per request."""
    if not hasattr(request, "_staff_organiser_ids"):
        request._staff_organiser_ids = list(
            OrganiserStaff.objects.filter(user=request.user).values_list("organiser_id", flat=True)
        )
    return request._staff_organiser_ids


def is_organiser_staff(request) -> bool:
    user = request.user
    return user.is_active and user.is_staff and (user.is_superuser or bool(staff_organiser_ids(request)))


def scope_to_staff(request, queryset):
    """The one place admin querysets are narrowed to the staff member's organisers."""
    if request.user.is_superuser:
        return queryset
    ids = staff_organiser_ids(request)
    if queryset.model is Organiser:
        return queryset.filter(pk__in=ids)
    if issubclass(queryset.model, TenantModel):
        return queryset.filter(organiser_id__in=ids)
    return queryset.none()


def money_currency(request, obj=None) -> str:
    """The currency the admin's money fields are typed in: the object's organiser's, else the
    staff member's organiser's (a platform superuser adding a row for another organiser types
    in GBP's decimals; the amount is stored as typed)."""
    organiser = getattr(obj, "organiser", None) if obj is not None else None
    if organiser is None:
        ids = staff_organiser_ids(request)
        organiser = Organiser.objects.filter(pk__in=ids[:1]).only("currency").first() if ids else None
    return organiser.currency if organiser is not None else "GBP"


class ScopedFormFieldsMixin:
    """Foreign-key and many-to-many choices, list filters and permissions, scoped; money fields
    in the organiser's currency."""

    #: Fields holding minor units: typed as money ("2.50") in forms. To show one read-only or as
    #: a column, name it "<field>_shown" (readonly_fields, fields, list_display): Django shows a
    #: model field's raw value itself, so the formatted one needs a name of its own.
    money_fields: tuple[str, ...] = ()

    def __getattr__(self, name):
        field_name = name.removesuffix("_shown")
        if field_name != name and field_name in type(self).money_fields:
            return money_display(field_name, self.model._meta.get_field(field_name).verbose_name)
        raise AttributeError(name)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in self.money_fields:
            currency = getattr(request, "_money_currency", None) or money_currency(request)
            return MoneyField(
                currency=currency,
                required=not db_field.blank,
                label=f"{capfirst(db_field.verbose_name)} ({SYMBOLS.get(currency, currency)})",
                help_text=self.money_help_texts.get(db_field.name, ""),
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    #: Help under a money field (the model's own help speaks of minor units, which nobody types).
    money_help_texts: dict[str, str] = {}

    def get_queryset(self, request):
        return scope_to_staff(request, super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = scope_to_staff(request, field.queryset)
            if db_field.name == "organiser" and not request.user.is_superuser:
                ids = staff_organiser_ids(request)
                if len(ids) == 1:
                    field.initial = ids[0]
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = scope_to_staff(request, field.queryset)
        return field

    def has_module_permission(self, request):
        return is_organiser_staff(request)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Django redirects to the index with "doesn't exist"; another tenant's object is a 404.
        raise Http404("No such object.")

    def _404_unless_in_scope(self, request, object_id):
        # Django checks permissions before it looks the object up, which would answer 403 for
        # another tenant's object on a view this user may not use at all; the answer must be 404.
        if object_id is not None and self.get_object(request, unquote(object_id)) is None:
            raise Http404("No such object.")

    def has_view_permission(self, request, obj=None):
        return is_organiser_staff(request)

    def has_add_permission(self, request, *args):
        return is_organiser_staff(request)

    def has_change_permission(self, request, obj=None):
        return is_organiser_staff(request)

    def has_delete_permission(self, request, obj=None):
        return is_organiser_staff(request)


def related_filter(field_path: str, model, title: str, parameter_name: str = ""):
    """A list filter across a relation (`booking__event`) whose choices are scoped to the staff
    member's organisers. Django's own filter for such paths would list every tenant's rows."""

    class ScopedRelatedFilter(admin.SimpleListFilter):
        related_model = model  # read by the scoping tests

        def lookups(self, request, model_admin):
            return [(str(obj.pk), str(obj)) for obj in scope_to_staff(request, model._default_manager.all())]

        def queryset(self, request, queryset):
            if self.value():
                return queryset.filter(**{field_path: self.value()})
            return queryset

    ScopedRelatedFilter.title = title
    ScopedRelatedFilter.parameter_name = parameter_name or field_path
    return ScopedRelatedFilter


def admin_link(obj, text=None) -> str:
    """A link to an object's change page in the admin."""
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text if text is not None else obj)


class OrganiserScopedAdmin(ScopedFormFieldsMixin, admin.ModelAdmin):
    """Base for every tenant-owned model's admin."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        request._money_currency = money_currency(request, obj)
        return super().get_form(request, obj, change, **kwargs)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self._404_unless_in_scope(request, object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        self._404_unless_in_scope(request, object_id)
        return super().delete_view(request, object_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        self._404_unless_in_scope(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        # A saved row never moves to another organiser: its children and bookings would straddle.
        if obj is not None and "organiser" not in readonly:
            readonly.append("organiser")
        return readonly

    def get_list_display(self, request):
        # Staff of one organiser need no organiser column.
        columns = list(super().get_list_display(request))
        if (
            not request.user.is_superuser
            and len(staff_organiser_ids(request)) == 1
            and "organiser" in columns
        ):
            columns.remove("organiser")
        return columns

    def get_list_filter(self, request):
        # Django's related filter lists every row of the related table; only-related keeps
        # the choices to values present in the (scoped) changelist.
        filters = []
        for item in super().get_list_filter(request):
            if isinstance(item, str):
                field = self.model._meta.get_field(item.split("__")[0])
                if field.is_relation and "__" not in item:
                    item = (item, admin.RelatedOnlyFieldListFilter)
            filters.append(item)
        return filters

    def save_formset(self, request, form, formset, change):
        # Child rows take their organiser from the parent, never from input.
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj.delete()
        for instance in instances:
            if isinstance(instance, TenantModel):
                instance.organiser = form.instance.organiser
            instance.save()
        formset.save_m2m()


class OrganiserScopedInline(ScopedFormFieldsMixin):
    exclude = ("organiser",)

    def get_formset(self, request, obj=None, **kwargs):
        request._money_currency = money_currency(request, obj)
        formset = super().get_formset(request, obj, **kwargs)
        parent = obj

        class ParentOrganiserFormSet(formset):
            def _construct_form(self, i, **kw):
                form = super()._construct_form(i, **kw)
                if parent is not None and isinstance(form.instance, TenantModel):
                    # Set before validation so model clean() can compare organisers.
                    form.instance.organiser = parent.organiser
                return form

        return ParentOrganiserFormSet


class OrganiserScopedTabularInline(OrganiserScopedInline, admin.TabularInline):
    extra = 0


class OrganiserScopedStackedInline(OrganiserScopedInline, admin.StackedInline):
    extra = 0


class OrganiserStaffInline(admin.TabularInline):
    model = OrganiserStaff
    extra = 0
    autocomplete_fields = ["user"]


class OrganiserAdminForm(forms.ModelForm):
    """The VAT rate may be left empty: no VAT (0)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "vat_rate_percent" in self.fields:
            self.fields["vat_rate_percent"].required = False

    def clean_vat_rate_percent(self):
        return self.cleaned_data.get("vat_rate_percent") or 0


@admin.register(Organiser)
class OrganiserAdmin(ScopedFormFieldsMixin, admin.ModelAdmin):
    form = OrganiserAdminForm
    list_display = ["name", "slug", "plan", "attendance_tracking", "time_zone", "currency"]
    search_fields = ["name", "slug"]
    fieldsets = (
        (None, {"fields": ("name", "slug", "plan", "attendance_tracking")}),
        ("Public page", {"fields": ("public_page_intro",)}),
        (
            "Branding",
            {
                "fields": ("logo", "accent_colour"),
                "description": "Your logo and colour on your public page, booking pages, your bookers' "
                "booking cards and your emails.",
            },
        ),
        (
            "Contact details shown to bookers",
            {
                "fields": ("contact_email", "contact_phone", "website", "address"),
            },
        ),
        ("Locale", {"fields": ("time_zone", "currency", "default_language")}),
        (
            "Receipts and the right of withdrawal",
            {
                "fields": ("legal_name", "vat_number", "vat_rate_percent", "sells_only_to_businesses"),
                "description": "Receipts show your legal name, your address above and your VAT number. "
                "Consumers who buy a pass, a gift voucher or a membership online may withdraw within "
                "14 days (EU Directive 2023/2673); event bookings are exempt.",
            },
        ),
    )

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "logo":
            field.widget.attrs["accept"] = "image/png,image/jpeg,image/webp"
        elif db_field.name == "accent_colour":
            field.widget.attrs.update({"placeholder": "#0f766e", "pattern": "#[0-9a-fA-F]{6}", "size": 8})
        return field

    def get_readonly_fields(self, request, obj=None):
        # Plan and features are the platform's to set; the address is part of printed links.
        if request.user.is_superuser:
            return ()
        return ("slug", "plan", "attendance_tracking", "currency")

    def get_inlines(self, request, obj):
        return [OrganiserStaffInline] if request.user.is_superuser else []

    def has_add_permission(self, request, *args):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


_django_admin_login = admin.site.login


def rate_limited_admin_login(request, extra_context=None):
    """Django's admin login has no rate limit (allauth's guard only /accounts/login/): at most
    10 attempts in 5 minutes per client address and email, 30 per client address, then 429 until
    the window passes. Never per email alone: a stranger must not lock a staff member out."""
    email = request.POST.get("username", "").strip().lower()
    if request.method == "POST" and rate_limited(
        request, "admin-login", period=300, subject=email, per_pair=10, per_client=30
    ):
        return HttpResponse(
            "Too many login attempts. Please wait a few minutes and try again.",
            status=429,
            content_type="text/plain; charset=utf-8",
        )
    return _django_admin_login(request, extra_context)


admin.site.login = rate_limited_admin_login


WITHDRAWAL_FIELDS = [
    "description",
    "kind",
    "email",
    "user",
    "purchased_at",
    "withdrawn_at",
    "amount_paid_shown",
    "deduction_shown",
    "deduction_reason",
    "refund_amount_shown",
    "refund_status",
    "refund_reference",
    "refund_error",
    "refunded_at",
    "email_sent_at",
]


@admin.register(Withdrawal)
class WithdrawalAdmin(OrganiserScopedAdmin):
    """Consumers' withdrawals from passes, vouchers and memberships bought online: a record the
    law asks for, so staff read it here and never change it."""

    money_fields = ("amount_paid", "deduction", "refund_amount")
    list_display = ["description", "email", "withdrawn_at", "refund_amount_shown", "refund_status"]
    list_filter = ["refund_status", "kind"]
    search_fields = ["email", "description", "user__email"]
    list_select_related = ["organiser", "user"]
    fields = WITHDRAWAL_FIELDS
    readonly_fields = WITHDRAWAL_FIELDS

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
