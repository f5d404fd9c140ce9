#include "adapters/inbound/xrechnung/xrechnung_adapter.h"

#include <cctype>

#include "adapters/inbound/xrechnung/leitweg_id.h"

namespace xoev {
namespace {

constexpr std::string_view kUblInvoice = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2";
constexpr std::string_view kUblCreditNote = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2";
constexpr std::string_view kCii = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100";
constexpr std::string_view kCbc = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";
constexpr std::string_view kCac = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";
constexpr std::string_view kRam = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100";
constexpr std::string_view kUdt = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100";
// UNTDID 1001 document name codes (380 commercial invoice, 381 credit note, ...).
constexpr std::string_view kTypeCodeList = "urn:un:unece:uncefact:codelist:standard:UNECE:DocumentNameCode:D16B";

enum class Syntax { ubl_invoice, ubl_credit_note, cii };

// First child element with this namespace and local name.
const xmlNode* child(const xmlNode* parent, std::string_view ns, std::string_view local) {
  if (parent == nullptr) return nullptr;
  for (const xmlNode* c = parent->children; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE && local_name(c) == local && namespace_of(c) == ns) return c;
  return nullptr;
}

// Follows (namespace, local) steps.
const xmlNode* path(const xmlNode* from, std::initializer_list<std::pair<std::string_view, std::string_view>> steps) {
  const xmlNode* cur = from;
  for (const auto& [ns, local] : steps) cur = child(cur, ns, local);
  return cur;
}

std::optional<Syntax> syntax_of(const XmlDocument& doc) {
  const auto ns = namespace_of(doc.root());
  const auto name = local_name(doc.root());
  if (ns == kUblInvoice && name == "Invoice") return Syntax::ubl_invoice;
  if (ns == kUblCreditNote && name == "CreditNote") return Syntax::ubl_credit_note;
  if (ns == kCii && name == "CrossIndustryInvoice") return Syntax::cii;
  return std::nullopt;
}

// "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0" → "3.0".
std::string xrechnung_version(const std::string& customization_id) {
  constexpr std::string_view marker = "xrechnung_";
  const auto at = customization_id.find(marker);
  if (at == std::string::npos) return {};
  const auto begin = at + marker.size();
  auto end = begin;
  while (end < customization_id.size() &&
         (std::isdigit(static_cast<unsigned char>(customization_id[end])) || customization_id[end] == '.'))
    ++end;
  while (end > begin && customization_id[end - 1] == '.') --end;  // "xrechnung_3.0." → 3.0
  return customization_id.substr(begin, end - begin);
}

// The seller's VAT identifier, if the invoice states one.
// "DE 123 456 789" is written for humans; the id is DE123456789. Only blanks go:
// any other character stays, so the routing-field check can refuse it.
std::string without_spaces(std::string v) {
  std::erase(v, ' ');
  return v;
}

std::string ubl_seller_vat(const xmlNode* root) {
  const xmlNode* party = path(root, {{kCac, "AccountingSupplierParty"}, {kCac, "Party"}});
  if (party == nullptr) return {};
  for (const xmlNode* c = party->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE || local_name(c) != "PartyTaxScheme" || namespace_of(c) != kCac) continue;
    if (text_of(path(c, {{kCac, "TaxScheme"}, {kCbc, "ID"}})) == "VAT") return text_of(child(c, kCbc, "CompanyID"));
  }
  return {};
}

std::string cii_seller_vat(const xmlNode* agreement) {
  const xmlNode* seller = child(agreement, kRam, "SellerTradeParty");
  if (seller == nullptr) return {};
  for (const xmlNode* c = seller->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE || local_name(c) != "SpecifiedTaxRegistration") continue;
    const xmlNode* id = child(c, kRam, "ID");
    if (id != nullptr && attribute(id, "schemeID") == "VA") return text_of(id);
  }
  return {};
}

class XRechnungAdapter final : public InboundAdapter {
 public:
  std::string_view name() const override { return "xrechnung"; }

  bool detect(const XmlDocument& doc) const override { return syntax_of(doc).has_value(); }

  Result<RoutingHeader> extract(const XmlDocument& doc) const override {
    const auto syntax = syntax_of(doc);
    if (!syntax) return Problem::make(ProblemKind::unknown_standard, "not an XRechnung UBL or CII invoice");
    const xmlNode* root = doc.root();
    RoutingHeader h;
    h.standard = "XRechnung";
    h.adapter = "xrechnung";
    h.message_type.list_uri = std::string(kTypeCodeList);
    const xmlNode* buyer_reference = nullptr;
    const char* buyer_reference_path = nullptr;
    if (*syntax == Syntax::cii) {
      const xmlNode* document = child(root, kCii, "ExchangedDocument");
      const xmlNode* agreement =
          path(root, {{kCii, "SupplyChainTradeTransaction"}, {kRam, "ApplicableHeaderTradeAgreement"}});
      h.version = xrechnung_version(text_of(path(
          root, {{kCii, "ExchangedDocumentContext"}, {kRam, "GuidelineSpecifiedDocumentContextParameter"}, {kRam, "ID"}})));
      h.reference = text_of(child(document, kRam, "ID"));
      h.message_type.code = text_of(child(document, kRam, "TypeCode"));
      h.message_type.name = "CrossIndustryInvoice";
      h.created_at = text_of(path(document, {{kRam, "IssueDateTime"}, {kUdt, "DateTimeString"}}));
      buyer_reference = child(agreement, kRam, "BuyerReference");
      buyer_reference_path =
          "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement/ram:BuyerReference";
      const std::string vat = without_spaces(cii_seller_vat(agreement));
      if (!vat.empty()) h.author = "ustid:" + vat;
    } else {
      const bool invoice = *syntax == Syntax::ubl_invoice;
      h.version = xrechnung_version(text_of(child(root, kCbc, "CustomizationID")));
      h.reference = text_of(child(root, kCbc, "ID"));
      h.message_type.code = text_of(child(root, kCbc, invoice ? "InvoiceTypeCode" : "CreditNoteTypeCode"));
      h.message_type.name = invoice ? "Invoice" : "CreditNote";
      h.created_at = text_of(child(root, kCbc, "IssueDate"));
      buyer_reference = child(root, kCbc, "BuyerReference");
      buyer_reference_path = "cbc:BuyerReference";
      const std::string vat = without_spaces(ubl_seller_vat(root));
      if (!vat.empty()) h.author = "ustid:" + vat;
    }

    const std::string leitweg_id = text_of(buyer_reference);
    if (buyer_reference == nullptr || leitweg_id.empty()) {
      return Problem::make(ProblemKind::missing_routing_header,
                           std::string("the invoice has no Leitweg-ID: ") + buyer_reference_path +
                               " (BT-10 Buyer reference) is " + (buyer_reference ? "empty" : "missing") +
                               "; invoices to German public authorities must carry the recipient's Leitweg-ID there")
          .at({"", line_of(buyer_reference ? buyer_reference : root), 0});
    }
    const std::string reason = leitweg::problem_with(leitweg_id);
    if (!reason.empty()) {
      Problem p = Problem::make(ProblemKind::invalid_routing_field, reason).at({"", line_of(buyer_reference), 0});
      p.errors.push_back({line_of(buyer_reference), 0, element_path(buyer_reference), reason});
      return p;
    }
    h.reader = "leitweg:" + leitweg_id;
    return h;
  }
};

}  // namespace

InboundAdapterPtr make_xrechnung_adapter() { return std::make_shared<const XRechnungAdapter>(); }

}  // namespace xoev
