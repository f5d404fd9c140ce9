// The ingest path routes on what it validated, and refuses at the door any routing
// field that a later stage (HTTP headers, file names, JWE headers, logs) could not
// carry safely.
#include "gateway/ingest/message_inspector.h"

#include <gtest/gtest.h>

#include "gateway/ingest/gateway_snapshot.h"
#include "tests/support/files.h"

using namespace xoev;

namespace {

const fs::path kTestdata = XOEV_TESTDATA_DIR;
const fs::path kSource = XOEV_SOURCE_DIR;

const MessageInspector& inspector() {
  static const auto* shared = [] {
    Config config;
    config.schema_catalog = kSource / "schemas/catalog.yaml";
    auto adapters = make_inbound_adapters(config);
    auto catalog = load_schema_catalog(config);
    EXPECT_TRUE(adapters.ok() && catalog.ok());
    return new MessageInspector(std::move(adapters).value(), std::move(catalog).value(), 16u << 20);
  }();
  return *shared;
}

std::string sample(const std::string& relative) { return test::read_file(kTestdata / relative); }

std::string replaced(std::string s, const std::string& what, const std::string& with) {
  const auto at = s.find(what);
  EXPECT_NE(at, std::string::npos) << what;
  if (at != std::string::npos) s.replace(at, what.size(), with);
  return s;
}

const char* kXBeteiligung = "xbeteiligung/tests/res/example402FromCockpit.xml";
const char* kXWasser = "xwasser/tests/quality_report_minimal.xml";
const char* kUbl = "xrechnung/instances/kosit/business-cases/standard/01.01a-INVOICE_ubl.xml";

}  // namespace

TEST(MessageInspector, TheRealSamplesPassWithCheckedFields) {
  for (const char* s : {kXBeteiligung, kXWasser, kUbl}) {
    auto i = inspector().accept(sample(s));
    ASSERT_TRUE(i.ok()) << s << ": " << i.problem().one_line();
    EXPECT_TRUE(i->validated);
  }
  auto ubl = inspector().accept(sample(kUbl));
  ASSERT_TRUE(ubl.ok());
  EXPECT_EQ(ubl->header.author, "ustid:DE123456789");  // "DE 123456789" as written for humans
}

TEST(MessageInspector, StandardComesFromTheCatalogEntryThatValidated) {
  auto forged = replaced(sample(kXBeteiligung), "standard=\"XBeteiligung\"", "standard=\"XWasser\"");
  auto i = inspector().inspect(forged);
  // Either the schema refuses the attribute, or the catalog's standard is used: never the sender's.
  if (!i.problem) {
    EXPECT_EQ(i.header.standard, "XBeteiligung");
  } else {
    EXPECT_EQ(i.problem->kind, ProblemKind::schema_invalid) << i.problem->one_line();
  }
}

TEST(MessageInspector, FreeTextTypeNameIsALabelNotTheType) {
  auto doc = replaced(sample(kXWasser), "<code>2010</code>", "<code>0020</code><name>2010</name>");
  auto i = inspector().inspect(doc);
  ASSERT_FALSE(i.problem) << i.problem->one_line();
  EXPECT_EQ(i.header.message_type.display(), "0020");
  EXPECT_EQ(i.header.message_type.label, "2010");
}

TEST(MessageInspector, HeaderInjectionInTheSellerVatIdIsRefusedNamingTheField) {
  auto doc = replaced(sample(kUbl), "<cbc:CompanyID>DE 123456789</cbc:CompanyID>",
                      "<cbc:CompanyID>DE1&#13;&#10;X-Injected: yes&#13;&#10;&#13;&#10;smuggled</cbc:CompanyID>");
  auto i = inspector().accept(doc);
  ASSERT_FALSE(i.ok());
  EXPECT_EQ(i.problem().kind, ProblemKind::invalid_routing_field);
  EXPECT_EQ(i.problem().http_status(), 422);
  EXPECT_NE(i.problem().detail.find("'author'"), std::string::npos) << i.problem().detail;
  EXPECT_EQ(i.problem().detail.find('\n'), std::string::npos) << "the echo is escaped";
}

TEST(MessageInspector, OverlongVatIdIsRefusedBeforeItReachesAProtectedHeader) {
  auto doc = replaced(sample(kUbl), "<cbc:CompanyID>DE 123456789</cbc:CompanyID>",
                      "<cbc:CompanyID>DE" + std::string(20000, '1') + "</cbc:CompanyID>");
  auto i = inspector().accept(doc);
  ASSERT_FALSE(i.ok());
  EXPECT_EQ(i.problem().kind, ProblemKind::invalid_routing_field);
  EXPECT_LT(i.problem().detail.size(), 600u);
}

TEST(MessageInspector, ReaderMustBePraefixColonKennung) {
  auto doc = replaced(sample(kXWasser), "11113110", "1111 3110");
  auto i = inspector().inspect(doc);
  ASSERT_TRUE(i.problem);
  // The schema may refuse it first; if it does not, the field check must.
  if (i.problem->kind != ProblemKind::schema_invalid) {
    EXPECT_EQ(i.problem->kind, ProblemKind::invalid_routing_field);
    EXPECT_NE(i.problem->detail.find("'reader'"), std::string::npos) << i.problem->detail;
  }
}
