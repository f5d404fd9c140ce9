// The XRechnung adapter over every real invoice in the test data. Expected values come
// from independent sources: buyer-references.tsv, xmllint --xpath on the same file, and
// a separately written MOD 97-10 check (IBAN-style, on the full digit string).
#include "adapters/inbound/xrechnung/xrechnung_adapter.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "adapters/inbound/xrechnung/leitweg_id.h"
#include "tests/support/files.h"

using namespace xoev;
namespace fs = std::filesystem;

namespace {

using xoev::test::read_file;

const fs::path kTestdata = XOEV_TESTDATA_DIR;

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// xmllint --xpath 'string(...)' FILE, trimmed.
std::string xmllint_string(const fs::path& file, const std::string& xpath) {
  const std::string cmd =
      "xmllint --nonet --xpath " + shell_quote("string(" + xpath + ")") + " " + shell_quote(file.string()) + " 2>/dev/null";
  std::string out;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return out;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  pclose(pipe);
  return trim(out);
}

std::string ln(const char* name) { return std::string("*[local-name()='") + name + "']"; }

std::string buyer_reference_xpath(std::string_view root) {
  if (root == "CrossIndustryInvoice")
    return "/*/" + ln("SupplyChainTradeTransaction") + "/" + ln("ApplicableHeaderTradeAgreement") + "/" +
           ln("BuyerReference");
  return "/*/" + ln("BuyerReference");
}

// Independent oracle: the whole ID (letters as 10..35, check digits included) mod 97
// must be 1 (ISO 7064 MOD 97-10 validation), computed in 7-digit chunks.
bool oracle_valid(const std::string& id) {
  std::vector<std::string> parts;
  std::stringstream ss(id);
  for (std::string part; std::getline(ss, part, '-');) parts.push_back(part);
  if (id.empty() || id.back() == '-' || parts.size() < 2 || parts.size() > 3 || id.size() > 46) return false;
  if (parts[0].size() < 2 || parts[0].size() > 12 || parts.back().size() != 2) return false;
  if (parts.size() == 3 && (parts[1].empty() || parts[1].size() > 30)) return false;
  std::string digits;
  for (size_t i = 0; i < parts.size(); ++i) {
    for (char c : parts[i]) {
      if (c >= '0' && c <= '9') digits += c;
      else if (i == 1 && parts.size() == 3 && std::isalpha(static_cast<unsigned char>(c)))
        digits += std::to_string(std::toupper(static_cast<unsigned char>(c)) - 'A' + 10);
      else return false;
    }
  }
  long long rem = 0;
  for (size_t i = 0; i < digits.size(); i += 7) rem = std::stoll(std::to_string(rem) + digits.substr(i, 7)) % 97;
  return rem == 1;
}

struct Outcome {
  int routed = 0, invalid = 0, missing = 0;
};

// Checks one invoice against the expected BuyerReference; returns which way it went.
void check_invoice(const fs::path& file, const std::string& root, const std::string& expected_br, Outcome& out) {
  SCOPED_TRACE(file.string());
  auto adapter = make_xrechnung_adapter();
  auto doc = XmlDocument::parse(read_file(file));
  ASSERT_TRUE(doc.ok()) << doc.problem().detail;
  ASSERT_TRUE(adapter->detect(*doc));
  auto h = adapter->extract(*doc);
  if (expected_br.empty()) {
    ASSERT_FALSE(h.ok());
    EXPECT_EQ(h.problem().kind, ProblemKind::missing_routing_header);
    EXPECT_NE(h.problem().detail.find("BuyerReference"), std::string::npos);
    ++out.missing;
    return;
  }
  if (oracle_valid(expected_br)) {
    ASSERT_TRUE(h.ok()) << h.problem().detail;
    EXPECT_EQ(h->reader, "leitweg:" + expected_br);
    EXPECT_TRUE(h->message_id.empty());
    EXPECT_EQ(h->standard, "XRechnung");
    EXPECT_EQ(h->adapter, "xrechnung");
    EXPECT_EQ(h->message_type.name, root);
    EXPECT_FALSE(h->message_type.code.empty());
    const std::string id_xpath = root == "CrossIndustryInvoice"
                                     ? "/*/" + ln("ExchangedDocument") + "/" + ln("ID")
                                     : "/*/" + ln("ID");
    EXPECT_EQ(h->reference, xmllint_string(file, id_xpath));
    ++out.routed;
    return;
  }
  ASSERT_FALSE(h.ok()) << "routed an invalid Leitweg-ID " << expected_br;
  const Problem& p = h.problem();
  EXPECT_EQ(p.kind, ProblemKind::invalid_routing_field);
  EXPECT_EQ(p.http_status(), 422);
  EXPECT_NE(p.detail.find(expected_br), std::string::npos) << p.detail;
  ASSERT_TRUE(p.location.has_value());
  EXPECT_GT(p.location->line, 0);
  ++out.invalid;
}

}  // namespace

TEST(LeitwegId, SpecificationExample) {
  // KoSIT's worked example: 04011000-1234512345 → check digits 06.
  EXPECT_EQ(leitweg::check_digits("04011000", "1234512345"), "06");
  EXPECT_EQ(leitweg::problem_with("04011000-1234512345-06"), "");
  EXPECT_TRUE(oracle_valid("04011000-1234512345-06"));
}

TEST(LeitwegId, ReasonsNameTheWrongPart) {
  const std::string wrong = leitweg::problem_with("04011000-12345-34");
  EXPECT_NE(wrong.find("check digits"), std::string::npos) << wrong;
  const auto expected = leitweg::check_digits("04011000", "12345");
  ASSERT_TRUE(expected.has_value());
  EXPECT_NE(wrong.find("\"" + *expected + "\""), std::string::npos) << wrong;
  EXPECT_TRUE(oracle_valid("04011000-12345-" + *expected));
  EXPECT_FALSE(oracle_valid("04011000-12345-34"));

  EXPECT_NE(leitweg::problem_with("Leitweg-ID").find("Grobadressierung"), std::string::npos);
  EXPECT_NE(leitweg::problem_with("qwerty").find("not a Leitweg-ID"), std::string::npos);
  EXPECT_NE(leitweg::problem_with("04011000-12 45-06").find("Feinadressierung"), std::string::npos);
  EXPECT_NE(leitweg::problem_with("04011000-12345-6").find("two digits"), std::string::npos);
  EXPECT_NE(leitweg::problem_with(std::string(47, '1')).find("at most 46"), std::string::npos);
}

TEST(LeitwegId, LettersAndNoFeinadressierung) {
  for (std::string fein : {"", "ABC", "abc", "33333TEST", "Z9"}) {
    const auto digits = leitweg::check_digits("991", fein);
    ASSERT_TRUE(digits.has_value());
    const std::string id = fein.empty() ? "991-" + *digits : "991-" + fein + "-" + *digits;
    EXPECT_EQ(leitweg::problem_with(id), "") << id;
    EXPECT_TRUE(oracle_valid(id)) << id;
    // Every other pair of check digits is wrong.
    const std::string other = *digits == "42" ? "43" : "42";
    EXPECT_NE(leitweg::problem_with(id.substr(0, id.size() - 2) + other), "") << id;
  }
}

TEST(XRechnungAdapter, EveryInvoiceOfTheTestSuiteAgainstBuyerReferencesTsv) {
  std::ifstream tsv(kTestdata / "xrechnung" / "buyer-references.tsv");
  ASSERT_TRUE(tsv.good());
  std::string line;
  std::getline(tsv, line);  // header
  Outcome out;
  int rows = 0;
  while (std::getline(tsv, line)) {
    std::stringstream ss(line);
    std::string file, syntax, root, br;
    std::getline(ss, file, '\t');
    std::getline(ss, syntax, '\t');
    std::getline(ss, root, '\t');
    std::getline(ss, br, '\t');
    ++rows;
    check_invoice(kTestdata / "xrechnung" / file, root, trim(br), out);
  }
  EXPECT_EQ(rows, 120);
  EXPECT_EQ(out.routed + out.invalid + out.missing, rows);
  // The suite holds all three kinds; if one count were 0 a path went untested.
  EXPECT_GT(out.routed, 50);
  EXPECT_GT(out.invalid, 5);
  EXPECT_GT(out.missing, 5);
}

TEST(XRechnungAdapter, EveryKositValidatorInstance) {
  Outcome out;
  int not_xml = 0;
  for (const auto& e : fs::recursive_directory_iterator(kTestdata / "xrechnung-kosit-validator" / "src" / "test")) {
    if (!e.is_regular_file() || e.path().extension() != ".xml") continue;
    if (e.path().parent_path().filename() == "test") continue;  // assertions*.xml: expected results, no invoices
    const std::string bytes = read_file(e.path());
    auto doc = XmlDocument::parse(bytes);
    if (!doc) {
      // The BMP image posing as an invoice and the truncated file.
      EXPECT_EQ(doc.problem().kind, ProblemKind::malformed_xml) << e.path();
      EXPECT_TRUE(e.path().filename() == "bin001.xml" || e.path().filename() == "ubl007.xml") << e.path();
      ++not_xml;
      continue;
    }
    const std::string root = doc->root_name();
    check_invoice(e.path(), root, xmllint_string(e.path(), buyer_reference_xpath(root)), out);
  }
  EXPECT_EQ(not_xml, 2);
  EXPECT_EQ(out.routed + out.invalid + out.missing, 49);
  EXPECT_GT(out.invalid, 0);
}

TEST(XRechnungAdapter, HeaderFieldsOfAKositInvoice) {
  auto adapter = make_xrechnung_adapter();
  for (const char* rel : {"xrechnung/instances/kosit/business-cases/standard/01.01a-INVOICE_ubl.xml",
                          "xrechnung/instances/kosit/business-cases/standard/01.01a-INVOICE_uncefact.xml"}) {
    SCOPED_TRACE(rel);
    const fs::path file = kTestdata / rel;
    auto doc = XmlDocument::parse(read_file(file));
    ASSERT_TRUE(doc.ok());
    auto h = adapter->extract(*doc);
    ASSERT_TRUE(h.ok()) << h.problem().detail;
    const bool cii = doc->root_name() == "CrossIndustryInvoice";
    const std::string customization =
        cii ? xmllint_string(file, "/*/" + ln("ExchangedDocumentContext") + "/" +
                                       ln("GuidelineSpecifiedDocumentContextParameter") + "/" + ln("ID"))
            : xmllint_string(file, "/*/" + ln("CustomizationID"));
    ASSERT_NE(customization.find("xrechnung_"), std::string::npos);
    EXPECT_FALSE(h->version.empty());
    EXPECT_NE(customization.find("xrechnung_" + h->version), std::string::npos);
    const std::string type_xpath = cii ? "/*/" + ln("ExchangedDocument") + "/" + ln("TypeCode") : "/*/" + ln("InvoiceTypeCode");
    EXPECT_EQ(h->message_type.code, xmllint_string(file, type_xpath));
    std::string vat =
        cii ? xmllint_string(file, "//" + ln("SellerTradeParty") + "/" + ln("SpecifiedTaxRegistration") + "/" +
                                       ln("ID") + "[@schemeID='VA']")
            : xmllint_string(file, "/*/" + ln("AccountingSupplierParty") + "/" + ln("Party") + "/" +
                                       ln("PartyTaxScheme") + "[" + ln("TaxScheme") + "/" + ln("ID") + "='VAT']/" +
                                       ln("CompanyID"));
    std::erase(vat, ' ');  // "DE 123 456 789" is the id DE123456789
    EXPECT_EQ(h->author, vat.empty() ? "" : "ustid:" + vat);
  }
}

TEST(XRechnungAdapter, IgnoresOtherDocuments) {
  auto adapter = make_xrechnung_adapter();
  auto doc = XmlDocument::parse("<Invoice xmlns=\"urn:example:not-ubl\"><BuyerReference>04011000-1234512345-06</BuyerReference></Invoice>");
  ASSERT_TRUE(doc.ok());
  EXPECT_FALSE(adapter->detect(*doc));
  EXPECT_EQ(adapter->name(), "xrechnung");
}
